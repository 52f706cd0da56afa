// Project the flow graph of one complete run with all labels into the GDS catalog: one relationship per
// :FLOWS_TOTAL with a positive weight (sum over all labels; N-D correlations below or at 0 carry no flow),
// every region the labels occupy (grid) or every region (components) as a node. Node property idx =
// canonical index. $undirected projects every relationship as undirected (Louvain, Leiden).
// Parameters: $graph_name, $undirected (bool), $run_id.
MATCH (run:Run {id: $run_id, status: 'complete'})
MATCH (s:Region {version: run.version})
WHERE run.kind <> 'grid' OR s.total > 0
OPTIONAL MATCH (s)-[f:FLOWS_TOTAL]->(t:Region)
WITH s, CASE WHEN f.weight > 0 THEN t END AS t, f.weight AS weight
WITH gds.graph.project($graph_name, s, t,
       {sourceNodeProperties: {idx: s.idx}, targetNodeProperties: CASE WHEN t IS NULL THEN null ELSE {idx: t.idx} END,
        relationshipProperties: CASE WHEN t IS NULL THEN null ELSE {weight: weight} END},
       {undirectedRelationshipTypes: CASE WHEN $undirected THEN ['*'] ELSE [] END}) AS g
RETURN g.graphName AS graph_name, g.nodeCount AS node_count, g.relationshipCount AS relationship_count
