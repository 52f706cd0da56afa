// name: bottlenecks
// purpose: The $top regions of every layer with the highest betweenness (directed, unweighted,
//          unnormalised: the share of shortest region-to-region flow paths through them), as written by
//          `analyze --save`, with their PageRank when it was written too. Regions with betweenness 0
//          (every first- and last-layer region of an NRAG) are left out. Ties: lower x, then y.
// parameters:
//   $run_id string       the run (analysed with `llm-mri-graphdb analyze RUN --algorithms betweenness --save`)
//   $top int             regions per layer (default: 1)
// example: store.query("bottlenecks", run_id="3f2a9c0d1e2b4a5f", top=2)
//          llm-mri-graphdb query bottlenecks --param run_id=3f2a9c0d1e2b4a5f --param top=2
MATCH (run:Run {id: $run_id, status: 'complete'})
MATCH (g:Region {version: run.version})
WHERE g.betweenness > 0
WITH g ORDER BY g.layer, g.betweenness DESC, g.x, g.y
WITH g.layer AS layer, collect({region: g.name, betweenness: g.betweenness, pagerank: g.pagerank, texts: g.total})[..$top] AS top
UNWIND range(0, size(top) - 1) AS i
RETURN layer, i + 1 AS rank, top[i].region AS region, top[i].betweenness AS betweenness,
       top[i].pagerank AS pagerank, top[i].texts AS texts
ORDER BY layer, rank
