// Unweighted directed betweenness centrality (unnormalised) into the projected graph's $config.mutateProperty.
// Parameters: $graph_name, $config (e.g. {mutateProperty: 'betweenness'}).
CALL gds.betweenness.mutate($graph_name, $config) YIELD nodePropertiesWritten
RETURN nodePropertiesWritten AS n_regions
