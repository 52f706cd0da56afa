// name: cross_layer_communities
// purpose: The run's cross-layer communities: those written by `analyze --save` that span the most layers,
//          with their label mix (texts of each label over the community's regions), dominant label
//          and its share (purity). Ties: more regions first, then more texts, then community id.
// parameters:
//   $run_id string       the run (analysed with `llm-mri-graphdb analyze RUN --save`)
//   $algorithm string    louvain or leiden (default: "louvain")
//   $top int             communities to return (default: 5)
//          (Modularity communities of the flow graph, not mechanistic circuits: see `analyze` for their
//          stability over seeds and their null. The old name `circuits` still works, with a warning.)
// example: store.query("cross_layer_communities", run_id="3f2a9c0d1e2b4a5f", top=3)
//          llm-mri-graphdb query cross_layer_communities --param run_id=3f2a9c0d1e2b4a5f --param algorithm=leiden
MATCH (run:Run {id: $run_id, status: 'complete'})
MATCH (g:Region {version: run.version})
WITH run, g, g['community_' + $algorithm] AS community
WHERE community IS NOT NULL
WITH run, community, count(g) AS size, collect(DISTINCT g.layer) AS layers, collect(g.counts) AS counts,
     min(g.layer) AS first_layer, max(g.layer) AS last_layer
WITH run, community, size, layers, first_layer, last_layer,
     [i IN range(0, size(run.label_names) - 1) | reduce(c = 0, x IN counts | c + x[i])] AS label_counts
WITH run, community, size, size(layers) AS layers_spanned, first_layer, last_layer, label_counts,
     reduce(c = 0, x IN label_counts | c + x) AS texts,
     reduce(m = 0, x IN label_counts | CASE WHEN x > m THEN x ELSE m END) AS top_count
RETURN community, layers_spanned, first_layer, last_layer, size, texts,
       [i IN range(0, size(label_counts) - 1) | {label: run.label_names[i], texts: label_counts[i]}] AS label_mix,
       head([i IN range(0, size(label_counts) - 1) WHERE label_counts[i] = top_count | run.label_names[i]]) AS dominant_label,
       CASE WHEN texts = 0 THEN null ELSE toFloat(top_count) / texts END AS purity
ORDER BY layers_spanned DESC, size DESC, texts DESC, community
LIMIT $top
