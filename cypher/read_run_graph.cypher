// The graph of one complete run for a label selection, as flat arrays for llm_mri_graphdb.metrics: one
// row holding the kept regions (canonical index, layer, counts of the selected labels, in index order)
// and one entry per (source, target) region pair, weight the sum of the selected labels' :FLOWS
// weights (the stored :FLOWS_TOTAL when $all_labels). Kept regions: those the selected labels occupy
// (grid runs) or every region (component runs). One pass over the run's relationships, grouped by
// pair in the database: linear in the run's size.
// Parameters: $run_id, $label_idx (list of ints, positions in run.label_names), $all_labels (bool).
MATCH (run:Run {id: $run_id, status: 'complete'})
WITH run, [i IN $label_idx | run.label_names[i]] AS labels
CALL (run) {
  MATCH (g:Region {version: run.version})
  WITH g, [i IN $label_idx | g.counts[i]] AS counts
  WHERE run.kind <> 'grid' OR reduce(c = 0, x IN counts | c + x) > 0
  WITH g, counts ORDER BY g.idx
  RETURN collect(g.idx) AS region_idx, collect(g.layer) AS region_layer, collect(counts) AS region_counts
}
CALL (run) {
  WITH run WHERE $all_labels
  MATCH (g:Region {version: run.version})
  WITH g, g.idx AS s
  MATCH (g)-[f:FLOWS_TOTAL]->(t)
  RETURN collect(s) AS total_source, collect(t.idx) AS total_target, collect(f.weight) AS total_weight
}
CALL (run, labels) {
  WITH run, labels WHERE NOT $all_labels
  MATCH (g:Region {version: run.version})
  WITH g, g.idx AS s, labels
  MATCH (g)-[f:FLOWS]->(t)
  WHERE f.label IN labels
  WITH s, t.idx AS t, sum(f.weight) AS w
  RETURN collect(s) AS label_source, collect(t) AS label_target, collect(w) AS label_weight
}
RETURN run.kind AS kind, region_idx, region_layer, region_counts,
       CASE WHEN $all_labels THEN total_source ELSE label_source END AS edge_source,
       CASE WHEN $all_labels THEN total_target ELSE label_target END AS edge_target,
       CASE WHEN $all_labels THEN total_weight ELSE label_weight END AS edge_weight
