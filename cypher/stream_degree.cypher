// gds.degree.stream on a projected graph, one row per region uid.
// Parameters: $graph_name, $config (e.g. {orientation: 'UNDIRECTED', relationshipWeightProperty: 'weight'}).
CALL gds.degree.stream($graph_name, $config) YIELD nodeId, score
RETURN gds.util.asNode(nodeId).uid AS uid, score
