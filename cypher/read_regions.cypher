// Regions of one version in canonical order (idx = position in layer, x, y order).
// Parameters: $version.
MATCH (g:Region {version: $version})
RETURN g.idx AS idx, g.layer AS layer, g.x AS x, g.y AS y, g.counts AS counts
ORDER BY idx
