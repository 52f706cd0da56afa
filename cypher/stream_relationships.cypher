// The weighted relationships of a projected graph, as (source idx, target idx, weight).
// Parameters: $graph_name.
CALL gds.graph.relationshipProperty.stream($graph_name, 'weight') YIELD sourceNodeId, targetNodeId, propertyValue
RETURN gds.util.nodeProperty($graph_name, sourceNodeId, 'idx') AS s,
       gds.util.nodeProperty($graph_name, targetNodeId, 'idx') AS t, propertyValue AS weight
