// Create one batch of (:Text)-[:IN]->(:Region) memberships of a staging version: the texts
// $start .. $start + size($r) - 1 of corpus $corpus at layer $layer. The layer's regions are fetched
// once through the (version, layer) index and the texts through the (corpus, idx) index, both in
// canonical order, and addressed by position ($r[i]: position within the layer of text $start + i's
// region), so no relationship costs an index seek per endpoint.
// Idempotent under driver retries: the batch's first text has an IN to a region of this version's
// layer exactly when the batch already committed; then nothing is created.
// Parameters: $version, $corpus, $layer, $start, $r.
MATCH (g:Region {version: $version, layer: $layer})
WITH g ORDER BY g.idx
WITH collect(g) AS regions
MATCH (t:Text {corpus: $corpus})
WHERE $start <= t.idx < $start + size($r)
WITH regions, t ORDER BY t.idx
WITH regions, collect(t) AS texts
WITH regions, texts, texts[0] AS first
WHERE size(texts) = size($r)
  AND NOT EXISTS { MATCH (first)-[:IN]->(done:Region) WHERE done.version = $version AND done.layer = $layer }
UNWIND range(0, size($r) - 1) AS i
WITH texts[i] AS t, regions[$r[i]] AS g
CREATE (t)-[:IN]->(g)
