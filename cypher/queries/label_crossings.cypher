// name: label_crossings
// purpose: Texts whose region at the last layer of a grid run is dominated by another label (the label
//          with the most texts there; ties to the first in label_names): where the model mixes them up.
//          Rows: the text, its label, the region, the dominant label, the region's texts of the text's
//          own label and of the dominant one; in corpus order.
// parameters:
//   $run_id string       the run
//   $limit int           rows to return (default: 20)
// example: store.query("label_crossings", run_id="3f2a9c0d1e2b4a5f", limit=10)
MATCH (run:Run {id: $run_id, status: 'complete'})
MATCH (g:Region {version: run.version, layer: run.n_layers - 1})
WITH run, g, reduce(best = 0, i IN range(1, size(g.counts) - 1) |
                    CASE WHEN g.counts[i] > g.counts[best] THEN i ELSE best END) AS top
MATCH (g)<-[:IN]-(t:Text)
WHERE t.label <> run.label_names[top]
WITH run, g, top, t, [i IN range(0, size(run.label_names) - 1) WHERE run.label_names[i] = t.label][0] AS own
RETURN t.idx AS index, t.text AS text, t.label AS label, g.name AS region, run.label_names[top] AS dominant_label,
       g.counts[own] AS label_count, g.counts[top] AS dominant_count
ORDER BY index
LIMIT $limit
