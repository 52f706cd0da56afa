// Delete a run's Layer nodes with their ALIGNS (called when the run is deleted).
// Parameters: $run_id.
MATCH (l:Layer {run_id: $run_id})
DETACH DELETE l
RETURN count(*) AS deleted
