// name: heaviest_label_paths
// purpose: Where a label's texts flow: from every region of $from_layer, follow at each step the
//          heaviest outgoing :FLOWS of the label (ties to the lowest x, then y) until it ends; the
//          paths are ranked by total weight. Greedy: one path per start region, linear in depth.
// parameters:
//   $run_id string      the run
//   $label string       the label to follow
//   $from_layer int     layer the paths start in (default: 0)
//   $limit int          paths to return (default: 5) (min: 1)
// example: store.query("heaviest_label_paths", run_id="3f2a9c0d1e2b4a5f", label="pos")
//          llm-mri-graphdb query heaviest_label_paths --param run_id=3f2a9c0d1e2b4a5f --param label=pos
MATCH (run:Run {id: $run_id, status: 'complete'})
MATCH (a:Region {version: run.version, layer: $from_layer})
MATCH p = (a) ((x)-[f:FLOWS]->(y)
            WHERE f.label = $label
              AND NOT EXISTS {
                MATCH (x)-[h:FLOWS]->(z)
                WHERE h.label = $label
                  AND (h.weight > f.weight
                       OR (h.weight = f.weight AND (z.x < y.x OR (z.x = y.x AND z.y < y.y))))
              })+ (b)
WHERE NOT EXISTS { MATCH (b)-[h:FLOWS]->() WHERE h.label = $label }
WITH p, [r IN relationships(p) | r.weight] AS weights
RETURN [n IN nodes(p) | n.name] AS regions, weights, reduce(s = 0.0, w IN weights | s + w) AS total_weight,
       size(weights) AS hops
ORDER BY total_weight DESC, regions
LIMIT $limit
