// One complete run and its graph, for llm_mri_graphdb.metrics: the run's properties and its (:LayerColumns)
// in layer order, each layer's regions (region_idx, region_counts per label of run.label_names) and
// outgoing flows packed as bytes: when $all_labels its :FLOWS_TOTAL (total_flows: source idx, target idx,
// weight), else its :FLOWS (label_flows: source, target, label index into run.label_names, weight);
// columns.layer_columns gives the layout. The caller checks its label selection against the run, keeps the
// regions and rows of the labels it selects and sums the rows per pair (store.neo4j.metrics.
// read_graph_arrays). One row a layer: no region or relationship is read. A run written before its layers
// had columns (no run.layer_columns; the lists are empty) is read by read_run_graph_relationships.
// Parameters: $run_id, $all_labels.
MATCH (run:Run {id: $run_id, status: 'complete'})
CALL (run) {
  OPTIONAL MATCH (run)-[:HAS_COLUMNS]->(c:LayerColumns)
  WITH c ORDER BY c.layer
  RETURN collect(c.layer) AS layers, collect(c.region_idx) AS region_idx, collect(c.region_counts) AS region_counts,
         collect(CASE WHEN $all_labels THEN c.total_flows ELSE c.label_flows END) AS flows
}
RETURN properties(run) AS run, layers, region_idx, region_counts, flows
