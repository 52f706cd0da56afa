// Write node properties of a projected graph (e.g. ['community_louvain', 'pagerank']) onto the stored
// regions (only on request: `analyze --save`).
// Parameters: $graph_name, $properties (list of names).
CALL gds.graph.nodeProperties.write($graph_name, $properties) YIELD propertiesWritten
RETURN propertiesWritten AS properties_written
