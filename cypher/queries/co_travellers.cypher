// name: co_travellers
// purpose: The texts that share text $idx's region at the most layers of a grid run, with how many
//          layers they share (at least one); most shared first, ties by corpus position.
// parameters:
//   $run_id string       the run
//   $idx int             the text's position in the corpus
//   $limit int           rows to return (default: 20)
// example: store.query("co_travellers", run_id="3f2a9c0d1e2b4a5f", idx=17, limit=5)
MATCH (run:Run {id: $run_id, status: 'complete'})
MATCH (me:Text {uid: run.corpus_key + ':' + toString($idx)})-[:IN]->(g:Region {version: run.version})<-[:IN]-(other:Text)
WHERE other <> me
WITH other, count(g) AS shared
RETURN other.idx AS index, other.text AS text, other.label AS label, shared
ORDER BY shared DESC, index
LIMIT $limit
