// Create the staging Run node of a new version (status "writing", invisible to readers); a retry of a
// committed call finds it and changes nothing.
// Parameters: $version (staging id "<run_id>#<hex>"), $run_id, $props (map of scalar properties).
MERGE (r:Run {id: $version})
ON CREATE SET r += $props, r.run_id = $run_id, r.version = $version, r.status = 'writing',
              r.created_at = datetime()
RETURN r.id AS id, r.status AS status
