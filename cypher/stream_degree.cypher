// gds.degree.stream on a projected graph, as columns: region idx (canonical index) and score.
// Parameters: $graph_name, $config (e.g. {orientation: 'UNDIRECTED', relationshipWeightProperty: 'weight'}).
CALL gds.degree.stream($graph_name, $config) YIELD nodeId, score
RETURN collect(gds.util.nodeProperty($graph_name, nodeId, 'idx')) AS idx, collect(score) AS score
