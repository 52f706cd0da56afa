// name: label_divergence_regions
// purpose: Regions where two labels diverge most: per region, the share of label A's texts of its
//          layer that fall in it minus label B's share; ranked by the absolute difference.
//          (ties, to 12 decimals, by layer then region).
// parameters:
//   $run_id string    the run
//   $label_a string   first label
//   $label_b string   second label
//   $limit int        rows to return (default: 10) (min: 1)
// example: store.query("label_divergence_regions", run_id="3f2a9c0d1e2b4a5f", label_a="pos", label_b="neg")
//          llm-mri-graphdb query label_divergence_regions --param run_id=3f2a9c0d1e2b4a5f --param label_a=pos --param label_b=neg
MATCH (run:Run {id: $run_id, status: 'complete'})
WITH run,
     [i IN range(0, size(run.label_names) - 1) WHERE run.label_names[i] = $label_a][0] AS ia,
     [i IN range(0, size(run.label_names) - 1) WHERE run.label_names[i] = $label_b][0] AS ib
WHERE ia IS NOT NULL AND ib IS NOT NULL
MATCH (g:Region {version: run.version})
WITH ia, ib, g.layer AS layer, collect(g) AS regions, sum(g.counts[ia]) AS na, sum(g.counts[ib]) AS nb
WHERE na > 0 AND nb > 0
UNWIND regions AS g
WITH g, layer, g.counts[ia] AS count_a, g.counts[ib] AS count_b,
     toFloat(g.counts[ia]) / na AS share_a, toFloat(g.counts[ib]) / nb AS share_b
RETURN g.name AS region, layer, count_a, count_b, share_a, share_b, share_a - share_b AS divergence
ORDER BY round(abs(divergence), 12) DESC, layer, region
LIMIT $limit
