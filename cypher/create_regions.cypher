// Create one batch of Region nodes of a staging version (uniqueness guaranteed by the fresh version id).
// Parameters: $run_id, $version, $rows (list of {uid, name, layer, x, y, counts, total}).
UNWIND $rows AS row
CREATE (:Region {uid: row.uid, name: row.name, run_id: $run_id, version: $version,
                 layer: row.layer, x: row.x, y: row.y, counts: row.counts, total: row.total})
