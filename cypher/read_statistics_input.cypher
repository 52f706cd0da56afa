// What the metric statistics (llm_mri_graphdb.statistics) read of one complete run: its kind, layers
// and label names, every text's label in corpus order, and the (:Text)-[:IN]->(:Region) memberships
// as columns (text position, region index in canonical order, region layer). One record; the lists
// are empty for a run stored without its texts.
// Parameters: $run_id.
MATCH (run:Run {id: $run_id, status: 'complete'})
CALL (run) {
  OPTIONAL MATCH (t:Text {corpus: run.corpus_key})
  WITH t ORDER BY t.idx
  RETURN collect(t.label) AS text_labels
}
CALL (run) {
  OPTIONAL MATCH (g:Region {version: run.version})<-[:IN]-(t:Text)
  RETURN collect(t.idx) AS text, collect(g.idx) AS region, collect(g.layer) AS layer
}
RETURN run.kind AS kind, run.n_layers AS n_layers, run.label_names AS label_names, run.n_texts AS n_texts,
       coalesce(run.text_paths, false) AS text_paths, text_labels, text, region, layer
