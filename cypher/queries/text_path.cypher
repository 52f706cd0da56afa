// name: text_path
// purpose: Where one text goes: its region at every layer of a grid run, with the region's texts of
//          every label (counts aligned with label_names) and their total. Runs stored with texts only.
// parameters:
//   $run_id string       the run
//   $idx int             the text's position in the corpus
// example: store.query("text_path", run_id="3f2a9c0d1e2b4a5f", idx=17)
//          llm-mri-graphdb path 3f2a9c0d1e2b4a5f 17
MATCH (run:Run {id: $run_id, status: 'complete'})
MATCH (t:Text {uid: run.corpus_key + ':' + toString($idx)})-[:IN]->(g:Region {version: run.version})
RETURN g.layer AS layer, g.name AS region, g.total AS total, g.counts AS counts, run.label_names AS label_names
ORDER BY layer
