// The $top regions of every layer by a projected graph's node property (ties: region name). Read-only.
// Parameters: $graph_name, $property, $top.
CALL gds.graph.nodeProperty.stream($graph_name, $property) YIELD nodeId, propertyValue
WITH gds.util.asNode(nodeId) AS g, propertyValue AS score
ORDER BY g.layer, score DESC, g.name
WITH g.layer AS layer, collect([g.name, score])[..$top] AS top
UNWIND range(0, size(top) - 1) AS i
RETURN layer, i + 1 AS rank, top[i][0] AS region, top[i][1] AS score
ORDER BY layer, rank
