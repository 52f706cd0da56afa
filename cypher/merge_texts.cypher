// Merge one batch of the Text nodes of a corpus, once per corpus whatever the run: keyed by
// uid = "<corpus key>:<idx>", linked (:Corpus)-[:HAS_TEXT]->(:Text). The Corpus node is merged here
// (its properties are set when a run is published). Columns, one entry per text: $idx (position in the
// corpus), $text, $label (label name).
// Idempotent: every node and relationship is MERGEd, so a retried or repeated batch (another run on
// the same corpus) creates nothing. Parameters: $corpus, $idx, $text, $label.
MERGE (c:Corpus {fingerprint: $corpus})
WITH c
UNWIND range(0, size($idx) - 1) AS i
MERGE (t:Text {uid: $corpus + ':' + toString($idx[i])})
ON CREATE SET t.corpus = $corpus, t.idx = $idx[i], t.text = $text[i], t.label = $label[i]
MERGE (c)-[:HAS_TEXT]->(t)
