// Project the regions $uids of one complete run with all labels into the GDS catalog:
// one relationship per :FLOWS_TOTAL (weight = sum over all labels).
// GDS ignores negative weights, so signed (N-D) weights also travel split as positive/negative parts.
// Parameters: $graph_name, $run_id, $uids (list of region uids).
MATCH (run:Run {id: $run_id, status: 'complete'})
UNWIND $uids AS uid
MATCH (s:Region {uid: uid})
OPTIONAL MATCH (s)-[f:FLOWS_TOTAL]->(t:Region)
WITH gds.graph.project($graph_name, s, t,
       {relationshipProperties: CASE WHEN t IS NULL THEN null ELSE
         {weight: f.weight, positive: CASE WHEN f.weight > 0 THEN f.weight ELSE 0.0 END,
          negative: CASE WHEN f.weight < 0 THEN -f.weight ELSE 0.0 END} END}) AS g
RETURN g.graphName AS graph_name, g.nodeCount AS node_count, g.relationshipCount AS relationship_count
