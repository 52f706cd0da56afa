// Label names of the texts of one corpus in corpus order (one record of a list).
// Parameters: $corpus.
MATCH (t:Text {corpus: $corpus})
WITH t ORDER BY t.idx
RETURN collect(t.label) AS labels
