// name: diverging_texts
// purpose: For two grid runs on the same corpus: pairs of texts i < j together in one region of run A's
//          layer $layer_a but in different regions of run B's layer $layer_b (together = "a"), and the
//          converse (together = "b"). Rows: together, i, j, the shared region, and the regions of i and j
//          in the other run; ordered by together ("a" first), i, j. Every pair of a shared region is
//          looked at, so the cost grows with the square of the largest region.
// parameters:
//   $run_a string        the first run
//   $run_b string        the second run (same corpus)
//   $layer_a int         layer of run A
//   $layer_b int         layer of run B
//   $limit int           rows to return (default: 20)
// example: store.query("diverging_texts", run_a="3f2a9c0d1e2b4a5f", run_b="9e8d7c6b5a4f3e2d", layer_a=6, layer_b=12)
MATCH (ra:Run {id: $run_a, status: 'complete'}), (rb:Run {id: $run_b, status: 'complete'})
WHERE ra.corpus_key = rb.corpus_key
CALL (ra, rb) {
  MATCH (g:Region {version: ra.version, layer: $layer_a})<-[:IN]-(t1:Text),
        (g)<-[:IN]-(t2:Text)
  WHERE t1.idx < t2.idx
  MATCH (t1)-[:IN]->(h1:Region {version: rb.version, layer: $layer_b}),
        (t2)-[:IN]->(h2:Region {version: rb.version, layer: $layer_b})
  WHERE h1 <> h2
  RETURN 'a' AS together, t1.idx AS i, t2.idx AS j, g.name AS region, h1.name AS region_i, h2.name AS region_j
  UNION ALL
  MATCH (g:Region {version: rb.version, layer: $layer_b})<-[:IN]-(t1:Text),
        (g)<-[:IN]-(t2:Text)
  WHERE t1.idx < t2.idx
  MATCH (t1)-[:IN]->(h1:Region {version: ra.version, layer: $layer_a}),
        (t2)-[:IN]->(h2:Region {version: ra.version, layer: $layer_a})
  WHERE h1 <> h2
  RETURN 'b' AS together, t1.idx AS i, t2.idx AS j, g.name AS region, h1.name AS region_i, h2.name AS region_j
}
RETURN together, i, j, region, region_i, region_j
ORDER BY together, i, j
LIMIT $limit
