// name: metric_across_models
// purpose: One saved metric (from store.metrics(run_id, labels)) for every complete run on one corpus,
//          one row per run, so models can be compared. Runs whose metrics were not computed for that
//          label selection are absent.
// parameters:
//   $corpus string       corpus fingerprint or name
//   $metric string       a scalar metric key, e.g. "density", "mean_degree", "purity"
//   $label string|null   metrics of one label; null means all labels (default: null)
// example: store.query("metric_across_models", corpus="sst2-200", metric="density")
//          llm-mri-graphdb query metric_across_models --param corpus=sst2-200 --param metric=density
MATCH (c:Corpus)
WHERE c.fingerprint = $corpus OR c.name = $corpus
MATCH (c)<-[:ON_CORPUS]-(run:Run {status: 'complete'})-[:OF_MODEL]->(m:Model)
MATCH (run)-[:HAS_METRICS]->(s:MetricSet)
WHERE s.labels = CASE WHEN $label IS NULL THEN run.label_names ELSE [$label] END
RETURN m.name AS model, run.id AS run_id, s.labels AS labels, s[$metric] AS value,
       toString(s.computed_at) AS computed_at
ORDER BY model, run_id
