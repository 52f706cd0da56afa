// The graph of one complete run, for llm_mri_graphdb.metrics: every region in index order (layer, counts
// per label of run.label_names) and its outgoing flows, packed: when $all_labels its :FLOWS_TOTAL
// (packed_total_flows: target idx, weight), else its :FLOWS (packed_label_flows: target idx, label
// index into run.label_names, weight); records.TOTAL_FLOW / LABEL_FLOW give the layout. The caller keeps
// the regions and rows of the labels it selects and sums the rows per pair
// (store.neo4j.metrics.read_graph_arrays). One read per region, no relationship walked. A run written
// before regions held packed flows (no run.packed_flows) is read by read_run_graph_relationships.cypher.
// Parameters: $run_id, $all_labels.
MATCH (run:Run {id: $run_id, status: 'complete'})
CALL (run) {
  MATCH (g:Region {version: run.version})
  WITH g ORDER BY g.idx
  RETURN collect(g.layer) AS region_layer, collect(g.counts) AS region_counts,
         collect(CASE WHEN $all_labels THEN g.packed_total_flows ELSE g.packed_label_flows END) AS flows
}
RETURN run.kind AS kind, region_layer, region_counts, flows
