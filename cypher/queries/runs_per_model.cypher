// name: runs_per_model
// purpose: Complete runs grouped by model (newest first within a model), with the corpora they scanned.
// parameters:
//   $model string|null  model name to keep; null lists every model (default: null)
// example: store.query("runs_per_model")
//          llm-mri-graphdb query runs_per_model --param model=gpt2
MATCH (run:Run {status: 'complete'})-[:OF_MODEL]->(m:Model)
WHERE $model IS NULL OR m.name = $model
OPTIONAL MATCH (run)-[:ON_CORPUS]->(c:Corpus)
WITH m, run, c
ORDER BY run.completed_at DESC, run.id
RETURN m.name AS model, m.key AS model_key, count(run) AS n_runs, collect(run.id) AS run_ids,
       collect(DISTINCT c.name) AS corpora
ORDER BY model, model_key
