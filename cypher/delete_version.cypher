// Delete the Run node of a version once its regions are gone, with its metric and statistic sets; returns the key of
// its corpus (whose texts go too when no other run uses it).
// Parameters: $version.
MATCH (r:Run {id: $version})
WHERE r.status <> 'complete'
OPTIONAL MATCH (r)-[:HAS_METRICS|HAS_STATISTICS]->(s:MetricSet|StatisticSet)
WITH r, collect(s) AS sets, r.corpus_key AS corpus
FOREACH (s IN sets | DETACH DELETE s)
DETACH DELETE r
RETURN corpus
