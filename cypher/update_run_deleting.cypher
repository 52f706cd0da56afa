// Hide a complete run at once (renamed to its version id, status "deleting") before its batched delete.
// $token marks this call's work, so a retry of a committed call finds the version it hid.
// Parameters: $run_id, $token.
MATCH (r:Run {run_id: $run_id})
WHERE (r.id = $run_id AND r.status = 'complete') OR r.delete_token = $token
SET r.id = r.version, r.status = 'deleting', r.delete_token = $token
RETURN r.version AS version
