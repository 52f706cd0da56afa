// Per-label edge rows of one version, as canonical region indices.
// Parameters: $version.
MATCH (s:Region {version: $version})-[f:FLOWS]->(t:Region)
RETURN s.idx AS s, t.idx AS t, f.label AS label, f.weight AS weight
