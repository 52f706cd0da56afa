// The weighted relationships of a projected graph, as columns: source idx, target idx, weight.
// Parameters: $graph_name.
CALL gds.graph.relationshipProperty.stream($graph_name, 'weight') YIELD sourceNodeId, targetNodeId, propertyValue
RETURN collect(gds.util.nodeProperty($graph_name, sourceNodeId, 'idx')) AS s,
       collect(gds.util.nodeProperty($graph_name, targetNodeId, 'idx')) AS t, collect(propertyValue) AS weight
