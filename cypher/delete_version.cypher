// Delete the Run node of a version once its regions are gone, with its metric sets.
// Parameters: $version.
MATCH (r:Run {id: $version})
WHERE r.status <> 'complete'
OPTIONAL MATCH (r)-[:HAS_METRICS]->(s:MetricSet)
DETACH DELETE s, r
