// Delete one batch of the Text nodes of corpus $corpus when no Run (complete, writing or deleting)
// uses that corpus any more; returns how many went (no row while a run uses it).
// Parameters: $corpus, $limit.
OPTIONAL MATCH (r:Run)
WHERE r.corpus_key = $corpus OR EXISTS { (r)-[:ON_CORPUS]->(:Corpus {fingerprint: $corpus}) }
WITH count(r) AS users
WHERE users = 0
MATCH (t:Text {corpus: $corpus})
WITH t LIMIT $limit
DETACH DELETE t
RETURN count(*) AS deleted
