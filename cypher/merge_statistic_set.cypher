// Save the metric statistics of a complete run (one set per label selection and resampling settings,
// llm_mri_graphdb.statistics.statistics_record); replaces an earlier one with the same key.
// Parameters: $run_id, $key (version + settings), $props (settings and the frame's columns as lists).
MATCH (r:Run {id: $run_id, status: 'complete'})
MERGE (s:StatisticSet {key: $key})
MERGE (r)-[:HAS_STATISTICS]->(s)
SET s = $props, s.key = $key, s.run_id = $run_id, s.computed_at = datetime()
RETURN s.key AS key
