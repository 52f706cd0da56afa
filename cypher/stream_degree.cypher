// gds.degree.stream on a projected graph, one row per region (idx = canonical index).
// Parameters: $graph_name, $config (e.g. {orientation: 'UNDIRECTED', relationshipWeightProperty: 'weight'}).
CALL gds.degree.stream($graph_name, $config) YIELD nodeId, score
RETURN gds.util.nodeProperty($graph_name, nodeId, 'idx') AS idx, score
