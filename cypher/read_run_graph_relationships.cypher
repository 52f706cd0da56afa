// read_run_graph.cypher for a run written before its layers had columns (no run.layer_columns): every
// region in index order (layer, counts), each region's flows as lists collected from its relationships (its
// :FLOWS_TOTAL by target when $all_labels, else its :FLOWS by target then label, the label as its index
// into run.label_names). One pass over the run's relationships. Parameters: $run_id, $all_labels.
MATCH (run:Run {id: $run_id, status: 'complete'})
CALL (run) {
  MATCH (g:Region {version: run.version})
  CALL (run, g) {
    WITH g WHERE $all_labels
    OPTIONAL MATCH (g)-[f:FLOWS_TOTAL]->(t)
    WITH g, t.idx AS target, f.weight AS weight ORDER BY target
    WITH g, collect(target) AS targets, collect(weight) AS weights  // grouped by g: no row when skipped
    RETURN targets, [] AS labels, weights
    UNION ALL
    WITH run, g WHERE NOT $all_labels
    OPTIONAL MATCH (g)-[f:FLOWS]->(t)
    WITH g, run.label_names AS names, t.idx AS target, f ORDER BY target, f.label
    WITH g, collect(target) AS targets,
         collect([i IN range(0, size(names) - 1) WHERE names[i] = f.label][0]) AS labels,
         collect(f.weight) AS weights
    RETURN targets, labels, weights
  }
  WITH g, targets, labels, weights ORDER BY g.idx
  RETURN collect(g.layer) AS region_layer, collect(g.counts) AS region_counts, collect(targets) AS flow_targets,
         collect(labels) AS flow_labels, collect(weights) AS flow_weights
}
RETURN run.kind AS kind, region_layer, region_counts, flow_targets, flow_labels, flow_weights
