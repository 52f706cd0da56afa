// Schema of llm-mri-graphdb, applied idempotently on connect (Community Edition).
// One statement per block, separated by semicolons. Names are documented in cypher/README.md.
CREATE CONSTRAINT model_key IF NOT EXISTS FOR (m:Model) REQUIRE m.key IS UNIQUE;
CREATE CONSTRAINT corpus_fingerprint IF NOT EXISTS FOR (c:Corpus) REQUIRE c.fingerprint IS UNIQUE;
CREATE CONSTRAINT run_id IF NOT EXISTS FOR (r:Run) REQUIRE r.id IS UNIQUE;
CREATE CONSTRAINT region_uid IF NOT EXISTS FOR (g:Region) REQUIRE g.uid IS UNIQUE;
CREATE CONSTRAINT text_uid IF NOT EXISTS FOR (t:Text) REQUIRE t.uid IS UNIQUE;
CREATE INDEX text_corpus_idx IF NOT EXISTS FOR (t:Text) ON (t.corpus, t.idx);
CREATE INDEX text_corpus IF NOT EXISTS FOR (t:Text) ON (t.corpus);
CREATE INDEX run_corpus_key IF NOT EXISTS FOR (r:Run) ON (r.corpus_key);
CREATE INDEX run_run_id IF NOT EXISTS FOR (r:Run) ON (r.run_id);
CREATE INDEX run_status IF NOT EXISTS FOR (r:Run) ON (r.status);
CREATE INDEX model_name IF NOT EXISTS FOR (m:Model) ON (m.name);
CREATE INDEX corpus_name IF NOT EXISTS FOR (c:Corpus) ON (c.name);
CREATE INDEX region_version_layer IF NOT EXISTS FOR (g:Region) ON (g.version, g.layer);
CREATE INDEX region_version IF NOT EXISTS FOR (g:Region) ON (g.version);
CREATE INDEX metric_set_key IF NOT EXISTS FOR (s:MetricSet) ON (s.key);
CREATE INDEX statistic_set_key IF NOT EXISTS FOR (s:StatisticSet) ON (s.key);
CREATE INDEX flows_label IF NOT EXISTS FOR ()-[f:FLOWS]-() ON (f.label);
