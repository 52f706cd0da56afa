// Every corpus with its number of complete runs.
// Parameters: none.
MATCH (c:Corpus)
OPTIONAL MATCH (c)<-[:ON_CORPUS]-(r:Run {status: 'complete'})
RETURN c.fingerprint AS key, c.name AS name, c.n_texts AS n_texts, c.label_names AS label_names,
       count(r) AS n_runs
ORDER BY name, key
