// One complete run with its model and corpus.
// Parameters: $run_id.
MATCH (r:Run {id: $run_id, status: 'complete'})
OPTIONAL MATCH (r)-[:OF_MODEL]->(m:Model)
OPTIONAL MATCH (r)-[:ON_CORPUS]->(c:Corpus)
RETURN properties(r) AS run, m.key AS model_key, c.fingerprint AS corpus_key
