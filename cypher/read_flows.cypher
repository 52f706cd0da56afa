// Per-label edge rows of one version as columns of canonical region indices, label names and weights.
// Parameters: $version.
MATCH (s:Region {version: $version})-[f:FLOWS]->(t:Region)
RETURN collect(s.idx) AS s, collect(t.idx) AS t, collect(f.label) AS label, collect(f.weight) AS weight
