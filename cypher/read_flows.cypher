// Per-label edge rows of one version.
// Parameters: $version.
MATCH (s:Region {version: $version})-[f:FLOWS]->(t:Region)
RETURN s.uid AS s, t.uid AS t, f.label AS label, f.weight AS weight
