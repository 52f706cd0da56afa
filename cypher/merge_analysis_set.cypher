// Save one analysis summary of a complete run (one per label selection); replaces an earlier one.
// Parameters: $run_id, $key (version + label selection), $labels (list of names), $props (map of numbers
// and strings: per algorithm modularity / n_communities, and the whole result as analysis_json).
MATCH (r:Run {id: $run_id, status: 'complete'})
MERGE (s:AnalysisSet {key: $key})
MERGE (r)-[:HAS_ANALYSIS]->(s)
SET s = $props, s.key = $key, s.run_id = $run_id, s.labels = $labels, s.computed_at = datetime()
RETURN s.key AS key
