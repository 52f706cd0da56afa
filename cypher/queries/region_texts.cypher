// name: region_texts
// purpose: The texts of one region of a grid run (its (:Text)-[:IN]-> members), in corpus order,
//          optionally of one label only, paged with $offset and $limit. Runs stored with texts only.
// parameters:
//   $run_id string       the run
//   $region string       region name "layer_x_y"
//   $label string|null   only texts of this label; null gives every label (default: null)
//   $limit int           rows to return (default: 20)
//   $offset int          rows to skip first (default: 0)
// example: store.query("region_texts", run_id="3f2a9c0d1e2b4a5f", region="6_3_4", label="pos")
//          llm-mri-graphdb texts 3f2a9c0d1e2b4a5f 6_3_4 --label pos
MATCH (run:Run {id: $run_id, status: 'complete'})
MATCH (g:Region {uid: run.version + ':' + $region})<-[:IN]-(t:Text)
WHERE $label IS NULL OR t.label = $label
RETURN t.idx AS index, t.text AS text, t.label AS label
ORDER BY index
SKIP $offset LIMIT $limit
