// Create one batch of Region nodes of a staging version (uniqueness guaranteed by the fresh version id).
// Rows are positional lists to keep the Bolt payload small: [uid, name, idx, layer, x, y, counts, total]
// (idx: the region's position in the run's canonical order).
// Idempotent under driver retries: when the batch's first region exists the batch already committed
// and nothing is created. Parameters: $run_id, $version, $rows.
OPTIONAL MATCH (done:Region {uid: $rows[0][0]})
WITH done WHERE done IS NULL
UNWIND $rows AS row
CREATE (:Region {uid: row[0], name: row[1], idx: row[2], run_id: $run_id, version: $version,
                 layer: row[3], x: row[4], y: row[5], counts: row[6], total: row[7]})
