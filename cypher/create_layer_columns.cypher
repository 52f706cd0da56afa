// Create the (:LayerColumns) of a batch of layers of a staging version: each layer's regions and outgoing
// flows packed as bytes, what read_run_graph reads (columns.layer_columns gives the layout). Rows are
// positional: [layer, region_idx, region_counts, total_flows, label_flows].
// Idempotent under driver retries: when the batch's first layer exists the batch already committed and
// nothing is created. Parameters: $version, $rows.
MATCH (run:Run {id: $version})
OPTIONAL MATCH (run)-[:HAS_COLUMNS]->(done:LayerColumns {layer: $rows[0][0]})
WITH run, done WHERE done IS NULL
UNWIND $rows AS row
CREATE (run)-[:HAS_COLUMNS]->(:LayerColumns {version: $version, layer: row[0], region_idx: row[1],
                                             region_counts: row[2], total_flows: row[3], label_flows: row[4]})
