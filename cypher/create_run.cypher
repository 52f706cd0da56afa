// Create the staging Run node of a new version (status "writing", invisible to readers) with its writer's
// lease (renewed by update_run_lease while the writer lives); a retry of a committed call finds it and
// changes nothing.
// Parameters: $version (staging id "<run_id>#<hex>"), $run_id, $props (map of scalar properties),
// $lease_ms (how long the version counts as being written without a heartbeat).
MERGE (r:Run {id: $version})
ON CREATE SET r += $props, r.run_id = $run_id, r.version = $version, r.status = 'writing',
              r.created_at = datetime(), r.lease_until = datetime() + duration({milliseconds: $lease_ms})
RETURN r.id AS id, r.status AS status
