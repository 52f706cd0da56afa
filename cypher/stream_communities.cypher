// One row per community of a projected graph's node property: regions, distinct layers spanned, first and
// last layer, texts of each selected label (positions $label_idx of the region counts). Read-only.
// Parameters: $graph_name, $property, $label_idx (list of ints).
CALL gds.graph.nodeProperty.stream($graph_name, $property) YIELD nodeId, propertyValue
WITH gds.util.asNode(nodeId) AS g, toInteger(propertyValue) AS community
WITH community, count(g) AS size, collect(DISTINCT g.layer) AS layers, collect(g.counts) AS counts
RETURN community, size, size(layers) AS layers_spanned,
       reduce(m = layers[0], l IN layers | CASE WHEN l < m THEN l ELSE m END) AS first_layer,
       reduce(m = layers[0], l IN layers | CASE WHEN l > m THEN l ELSE m END) AS last_layer,
       [i IN $label_idx | reduce(c = 0, x IN counts | c + x[i])] AS label_counts
ORDER BY layers_spanned DESC, size DESC, community
