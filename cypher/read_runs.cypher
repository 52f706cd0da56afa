// Every complete run, newest first, with its model and corpus names.
// Parameters: none.
MATCH (r:Run {status: 'complete'})
OPTIONAL MATCH (r)-[:OF_MODEL]->(m:Model)
OPTIONAL MATCH (r)-[:ON_CORPUS]->(c:Corpus)
RETURN r.id AS run_id, m.name AS model, c.name AS corpus, c.fingerprint AS corpus_fingerprint,
       r.kind AS kind, r.n_layers AS n_layers, r.label_names AS label_names,
       r.n_regions AS n_regions, r.n_edge_rows AS n_edge_rows, r.completed_at AS completed_at
ORDER BY r.completed_at DESC, r.id
