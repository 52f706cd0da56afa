// Whether a version holds region $region, with the name of its first region as an example.
// Parameters: $version, $region.
OPTIONAL MATCH (g:Region {uid: $version + ':' + $region})
OPTIONAL MATCH (first:Region {version: $version, idx: 0})
RETURN g IS NOT NULL AS found, first.name AS example
