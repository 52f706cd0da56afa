// The weighted relationships of a projected graph, as (source uid, target uid, weight).
// Parameters: $graph_name.
CALL gds.graph.relationshipProperty.stream($graph_name, 'weight') YIELD sourceNodeId, targetNodeId, propertyValue
RETURN gds.util.asNode(sourceNodeId).uid AS s, gds.util.asNode(targetNodeId).uid AS t, propertyValue AS weight
