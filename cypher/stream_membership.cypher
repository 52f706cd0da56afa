// The community of every region in a projected graph's node property, as columns (one value per region,
// no relationships): region names and community ids. Read-only.
// Parameters: $graph_name, $property.
CALL gds.graph.nodeProperty.stream($graph_name, $property) YIELD nodeId, propertyValue
WITH gds.util.asNode(nodeId) AS g, toInteger(propertyValue) AS community
RETURN collect(g.name) AS region, collect(community) AS community
