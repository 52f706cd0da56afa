// name: hub_regions
// purpose: The $top hub regions of every layer: regions ranked by strength (in + out edge weight),
//          then degree (in + out edges), for one label's :FLOWS or for all labels (:FLOWS_TOTAL).
// parameters:
//   $run_id string       the run
//   $label string|null   one label; null means all labels (default: null)
//   $top int             hubs per layer (default: 3) (min: 1)
// example: store.query("hub_regions", run_id="3f2a9c0d1e2b4a5f", top=2)
//          llm-mri-graphdb query hub_regions --param run_id=3f2a9c0d1e2b4a5f --param top=2
MATCH (run:Run {id: $run_id, status: 'complete'})
MATCH (g:Region {version: run.version})
CALL (g) {
  OPTIONAL MATCH (g)-[f:FLOWS|FLOWS_TOTAL]-()
  WHERE ($label IS NULL AND type(f) = 'FLOWS_TOTAL') OR ($label IS NOT NULL AND f.label = $label)
  RETURN count(f) AS degree, coalesce(sum(f.weight), 0.0) AS strength
}
WITH g, degree, strength
WHERE degree > 0
ORDER BY g.layer, strength DESC, degree DESC, g.x, g.y
WITH g.layer AS layer, collect({region: g.name, degree: degree, strength: strength})[..$top] AS hubs
UNWIND range(0, size(hubs) - 1) AS i
RETURN layer, i + 1 AS rank, hubs[i].region AS region, hubs[i].degree AS degree, hubs[i].strength AS strength
ORDER BY layer, rank
