// name: compare_runs
// purpose: Two runs side by side, layer by layer: regions, regions present in both (same layer and
//          cell or component), :FLOWS_TOTAL edges leaving the layer and their total weight.
// parameters:
//   $run_a string   first run
//   $run_b string   second run
// example: store.query("compare_runs", run_a="3f2a9c0d1e2b4a5f", run_b="9b8c7d6e5f4a3b2c")
//          llm-mri-graphdb query compare_runs --param run_a=3f2a9c0d1e2b4a5f --param run_b=9b8c7d6e5f4a3b2c
MATCH (a:Run {id: $run_a, status: 'complete'})
MATCH (b:Run {id: $run_b, status: 'complete'})
UNWIND range(0, CASE WHEN a.n_layers > b.n_layers THEN a.n_layers ELSE b.n_layers END - 1) AS layer
CALL (a, b, layer) {
  MATCH (g:Region {version: a.version, layer: layer})
  OPTIONAL MATCH (h:Region {uid: b.version + ':' + g.name})
  RETURN count(g) AS regions_a, count(h) AS shared_regions
}
CALL (b, layer) {
  MATCH (g:Region {version: b.version, layer: layer})
  RETURN count(g) AS regions_b
}
CALL (a, layer) {
  MATCH (:Region {version: a.version, layer: layer})-[f:FLOWS_TOTAL]->()
  RETURN count(f) AS edges_a, coalesce(sum(f.weight), 0.0) AS weight_a
}
CALL (b, layer) {
  MATCH (:Region {version: b.version, layer: layer})-[f:FLOWS_TOTAL]->()
  RETURN count(f) AS edges_b, coalesce(sum(f.weight), 0.0) AS weight_b
}
RETURN layer, regions_a, regions_b, shared_regions, edges_a, edges_b, weight_a, weight_b
ORDER BY layer
