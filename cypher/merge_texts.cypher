// Merge one batch of the Text nodes of a corpus, once per corpus whatever the run: keyed by
// uid = "<corpus key>:<idx>", linked (:Corpus)-[:HAS_TEXT]->(:Text). The Corpus node is merged here
// (its properties are set when a run is published). Columns, one entry per text: $idx (position in the
// corpus), $text, $label (label name).
// Idempotent: a text that exists (an earlier commit of this batch, or another run on the same corpus)
// is skipped, so a retried or repeated batch creates nothing; the others are created with their
// HAS_TEXT. Parameters: $corpus, $idx, $text, $label.
MERGE (c:Corpus {fingerprint: $corpus})
WITH c
UNWIND range(0, size($idx) - 1) AS i
OPTIONAL MATCH (done:Text {uid: $corpus + ':' + toString($idx[i])})
WITH c, i, done
WHERE done IS NULL
CREATE (c)-[:HAS_TEXT]->(:Text {uid: $corpus + ':' + toString($idx[i]), corpus: $corpus, idx: $idx[i],
                                text: $text[i], label: $label[i]})
