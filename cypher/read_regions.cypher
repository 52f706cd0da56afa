// Regions of one version in canonical order (layer, x, y).
// Parameters: $version.
MATCH (g:Region {version: $version})
RETURN g.uid AS uid, g.layer AS layer, g.x AS x, g.y AS y, g.counts AS counts
ORDER BY layer, x, y
