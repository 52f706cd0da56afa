// Delete the Run node of a version once its regions are gone, with its layer columns and its metric, statistic
// and probe sets; returns the key of its corpus (whose texts go too when no other run uses it).
// Parameters: $version.
MATCH (r:Run {id: $version})
WHERE r.status <> 'complete'
OPTIONAL MATCH (r)-[:HAS_METRICS|HAS_STATISTICS]->(s:MetricSet|StatisticSet)
WITH r, collect(s) AS metric_sets, r.corpus_key AS corpus
OPTIONAL MATCH (r)-[:HAS_PROBE]->(p:ProbeSet)
WITH r, metric_sets, corpus, collect(p) AS probe_sets
OPTIONAL MATCH (r)-[:HAS_COLUMNS]->(c:LayerColumns)
WITH r, metric_sets, corpus, probe_sets, collect(c) AS columns
FOREACH (s IN metric_sets + probe_sets + columns | DETACH DELETE s)
DETACH DELETE r
RETURN corpus
