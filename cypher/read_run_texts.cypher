// Texts of one corpus in corpus order (one record of a list), for the views of a stored run.
// Parameters: $corpus.
MATCH (t:Text {corpus: $corpus})
WITH t ORDER BY t.idx
RETURN collect(t.text) AS texts
