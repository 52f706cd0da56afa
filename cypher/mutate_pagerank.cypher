// Weighted PageRank (directed projection, GDS definition: not normalised, dangling mass dropped) into
// the projected graph's $config.mutateProperty.
// Parameters: $graph_name, $config (e.g. {mutateProperty: 'pagerank', relationshipWeightProperty: 'positive'}).
CALL gds.pageRank.mutate($graph_name, $config) YIELD ranIterations, didConverge
RETURN ranIterations AS iterations, didConverge AS converged
