// Leiden communities (weighted, undirected projection) into the projected graph's $config.mutateProperty.
// Parameters: $graph_name, $config (e.g. {mutateProperty: 'community_leiden', randomSeed: 42}).
CALL gds.leiden.mutate($graph_name, $config) YIELD modularity, communityCount
RETURN modularity, communityCount AS n_communities
