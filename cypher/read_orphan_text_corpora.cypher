// Corpus keys whose Text nodes no Run uses any more (left by a delete interrupted before its texts went).
// Parameters: none.
MATCH (t:Text)
WITH DISTINCT t.corpus AS corpus
WHERE NOT EXISTS { MATCH (r:Run) WHERE r.corpus_key = corpus }
  AND NOT EXISTS { MATCH (:Run)-[:ON_CORPUS]->(:Corpus {fingerprint: corpus}) }
RETURN corpus
