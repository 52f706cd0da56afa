// Runs with a status in $statuses (["complete"] for what readers see), newest first, with their model
// and corpus names. A version that is not complete is listed under its version id.
// Parameters: $statuses (list of "complete", "writing", "deleting").
MATCH (r:Run)
WHERE r.status IN $statuses
OPTIONAL MATCH (r)-[:OF_MODEL]->(m:Model)
OPTIONAL MATCH (r)-[:ON_CORPUS]->(c:Corpus)
RETURN r.id AS run_id, coalesce(m.name, r.model_name) AS model, coalesce(c.name, r.corpus_name) AS corpus,
       c.fingerprint AS corpus_fingerprint, r.kind AS kind, r.n_layers AS n_layers,
       r.label_names AS label_names, r.n_regions AS n_regions, r.n_edge_rows AS n_edge_rows,
       r.completed_at AS completed_at, r.status AS status
ORDER BY r.status, coalesce(r.completed_at, r.created_at) DESC, r.id
