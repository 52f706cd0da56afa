// Memberships of one version as columns: text position in the corpus, region index (canonical order)
// and layer, one entry per (:Text)-[:IN]->(:Region).
// Parameters: $version.
MATCH (g:Region {version: $version})<-[:IN]-(t:Text)
RETURN collect(t.idx) AS text, collect(g.idx) AS region, collect(g.layer) AS layer
