// Versions of a run left behind by an interrupted write or delete (status "writing" or "deleting").
// Parameters: $run_id.
MATCH (r:Run {run_id: $run_id})
WHERE r.status IN ['writing', 'deleting']
RETURN r.version AS version
