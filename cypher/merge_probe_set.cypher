// Idempotent
// Keep the probe result of a complete run (llm_mri_graphdb.probing.probe_curve), replacing an earlier one:
// the whole result as probe_json and its per-layer curves as list properties (full_mean, full_low, ...).
// Parameters: $run_id, $props (map of numbers, lists of numbers and the string probe_json).
MATCH (r:Run {id: $run_id, status: 'complete'})
MERGE (r)-[:HAS_PROBE]->(p:ProbeSet {run_id: $run_id})
SET p = $props, p.run_id = $run_id, p.computed_at = datetime()
RETURN p.run_id AS run_id
