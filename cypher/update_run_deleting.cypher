// Hide a complete run at once (renamed to its version id, status "deleting") before its batched delete.
// Parameters: $run_id.
MATCH (r:Run {id: $run_id, status: 'complete'})
SET r.id = r.version, r.status = 'deleting'
RETURN r.version AS version
