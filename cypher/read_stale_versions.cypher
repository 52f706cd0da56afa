// Versions left behind by an interrupted write or delete (status "writing" or "deleting"): of one run,
// or of every run when $run_id is null. `leased`: a writer's heartbeat still holds it (being written now).
// Parameters: $run_id (string or null).
MATCH (r:Run)
WHERE r.status IN ['writing', 'deleting'] AND ($run_id IS NULL OR r.run_id = $run_id)
RETURN r.version AS version, r.run_id AS run_id, r.status AS status, r.created_at AS created_at,
       (r.status = 'writing' AND coalesce(r.lease_until > datetime(), false)) AS leased
ORDER BY r.created_at
