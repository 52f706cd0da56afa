// Project one complete run with all labels into the GDS catalog: one relationship per
// :FLOWS_TOTAL (weight = sum over all labels). Node property idx = canonical index.
// GDS ignores negative weights, so signed (N-D) weights also travel split as positive/negative parts;
// the algorithms use 'positive'. $undirected projects every relationship as undirected (Louvain, Leiden).
// Parameters: $graph_name, $undirected (bool), $run_id.
MATCH (run:Run {id: $run_id, status: 'complete'})
MATCH (s:Region {version: run.version})
WHERE run.kind <> 'grid' OR s.total > 0
OPTIONAL MATCH (s)-[f:FLOWS_TOTAL]->(t:Region)
WITH gds.graph.project($graph_name, s, t,
       {sourceNodeProperties: {idx: s.idx}, targetNodeProperties: CASE WHEN t IS NULL THEN null ELSE {idx: t.idx} END,
        relationshipProperties: CASE WHEN t IS NULL THEN null ELSE
         {weight: f.weight, positive: CASE WHEN f.weight > 0 THEN f.weight ELSE 0.0 END,
          negative: CASE WHEN f.weight < 0 THEN -f.weight ELSE 0.0 END} END},
       {undirectedRelationshipTypes: CASE WHEN $undirected THEN ['*'] ELSE [] END}) AS g
RETURN g.graphName AS graph_name, g.nodeCount AS node_count, g.relationshipCount AS relationship_count
