// Regions of one version in canonical order (idx = position in layer, x, y order), as columns
// (one record of lists: far fewer Bolt records than one row per region).
// Parameters: $version.
MATCH (g:Region {version: $version})
WITH g ORDER BY g.idx
RETURN collect(g.idx) AS idx, collect(g.layer) AS layer, collect(g.x) AS x, collect(g.y) AS y,
       collect(g.counts) AS counts
