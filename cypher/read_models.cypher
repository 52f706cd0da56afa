// Every model with its number of complete runs.
// Parameters: none.
MATCH (m:Model)
OPTIONAL MATCH (m)<-[:OF_MODEL]-(r:Run {status: 'complete'})
RETURN m.key AS key, m.name AS name, m.architecture AS architecture, m.n_layers AS n_layers,
       m.width AS width, count(r) AS n_runs
ORDER BY name, key
