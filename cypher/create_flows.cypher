// Create one batch of edges from layer $layer to $layer + 1 of a staging version: one :FLOWS_TOTAL per
// (source, target) pair (sum over labels) and one :FLOWS per label row. The two layers' regions are
// fetched once through the (version, layer) index and addressed by position in canonical order, so no
// relationship costs an index seek per endpoint. Columns (flat lists, one entry per relationship):
//   $s, $t, $total      pairs: source position, target position, summed weight      -> :FLOWS_TOTAL
//   $fs, $ft, $fl, $fw  label rows: source, target, index into $labels, weight      -> :FLOWS
// Idempotent under driver retries: a batch holds whole pairs, so the :FLOWS_TOTAL of its first pair
// exists exactly when the batch already committed; then nothing is created (a lost acknowledgement
// retried is a no-op). Parameters: $version, $layer, $labels, $s, $t, $total, $fs, $ft, $fl, $fw.
MATCH (s:Region {version: $version, layer: $layer})
WITH s ORDER BY s.idx
WITH collect(s) AS sources
MATCH (t:Region {version: $version, layer: $layer + 1})
WITH sources, t ORDER BY t.idx
WITH sources, collect(t) AS targets
WITH sources, targets, sources[$s[0]] AS first_source, targets[$t[0]] AS first_target
WHERE NOT EXISTS { (first_source)-[:FLOWS_TOTAL]->(first_target) }
CALL (sources, targets) {
  UNWIND range(0, size($s) - 1) AS i
  WITH sources[$s[i]] AS a, targets[$t[i]] AS b, $total[i] AS weight
  CREATE (a)-[:FLOWS_TOTAL {weight: weight}]->(b)
}
CALL (sources, targets) {
  UNWIND range(0, size($fs) - 1) AS j
  WITH sources[$fs[j]] AS a, targets[$ft[j]] AS b, $labels[$fl[j]] AS label, $fw[j] AS weight
  CREATE (a)-[:FLOWS {label: label, weight: weight}]->(b)
}
