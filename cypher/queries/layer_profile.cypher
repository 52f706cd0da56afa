// name: layer_profile
// purpose: Per layer and label of one run: regions the label occupies (counts > 0), its :FLOWS to the
//          next layer, their total weight, mean out-degree (edges / regions) and the bipartite density
//          edges / (regions here * regions the label occupies in the next layer).
// parameters:
//   $run_id string       the run
//   $label string|null   one label; null gives every label (default: null)
// example: store.query("layer_profile", run_id="3f2a9c0d1e2b4a5f", label="positive")
//          llm-mri-graphdb query layer_profile --param run_id=3f2a9c0d1e2b4a5f
MATCH (run:Run {id: $run_id, status: 'complete'})
UNWIND range(0, size(run.label_names) - 1) AS li
WITH run, li, run.label_names[li] AS label
WHERE $label IS NULL OR label = $label
UNWIND range(0, run.n_layers - 1) AS layer
CALL (run, li, layer) {
  MATCH (g:Region {version: run.version, layer: layer})
  WHERE g.counts[li] > 0
  RETURN count(g) AS n_regions
}
CALL (run, li, layer) {
  MATCH (g:Region {version: run.version, layer: layer + 1})
  WHERE g.counts[li] > 0
  RETURN count(g) AS n_next
}
CALL (run, label, layer) {
  MATCH (:Region {version: run.version, layer: layer})-[f:FLOWS]->()
  WHERE f.label = label
  RETURN count(f) AS n_edges, coalesce(sum(f.weight), 0.0) AS weight
}
RETURN layer, label, n_regions, n_edges, weight,
       CASE WHEN n_regions = 0 THEN null ELSE toFloat(n_edges) / n_regions END AS mean_out_degree,
       CASE WHEN n_regions * n_next = 0 THEN null ELSE toFloat(n_edges) / (n_regions * n_next) END AS density
ORDER BY layer, label
