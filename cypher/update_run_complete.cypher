// Publish a staging version in ONE transaction: retire the previous complete version of the run
// (renamed to its own version id, status "deleting"), link model and corpus, flip the staging node.
// Returns the retired versions, for the caller to delete in batches.
// Parameters: $run_id, $version, $model_key, $model (map), $corpus_key, $corpus (map).
MATCH (new:Run {id: $version, status: 'writing'})
OPTIONAL MATCH (old:Run {id: $run_id})
SET old.id = old.version, old.status = 'deleting'
WITH new, collect(old.version) AS retired
MERGE (m:Model {key: $model_key})
SET m += $model
MERGE (c:Corpus {fingerprint: $corpus_key})
SET c += $corpus
MERGE (new)-[:OF_MODEL]->(m)
MERGE (new)-[:ON_CORPUS]->(c)
SET new.id = $run_id, new.status = 'complete', new.completed_at = datetime()
RETURN new.id AS id, retired
