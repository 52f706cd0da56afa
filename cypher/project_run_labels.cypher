// Project the regions $uids of one complete run into the GDS catalog (Cypher aggregation),
// restricted to the selected labels: each (source, target) pair becomes one relationship whose
// weight is the sum of the selected labels' :FLOWS weights.
// GDS ignores negative weights, so signed (N-D) weights also travel split as positive/negative parts.
// Parameters: $graph_name, $run_id, $uids (list of region uids), $labels (list of label names).
MATCH (run:Run {id: $run_id, status: 'complete'})
UNWIND $uids AS uid
MATCH (s:Region {uid: uid})
OPTIONAL MATCH (s)-[f:FLOWS]->(t:Region)
WHERE f.label IN $labels
WITH s, t, sum(f.weight) AS weight
WITH gds.graph.project($graph_name, s, t,
       {relationshipProperties: CASE WHEN t IS NULL THEN null ELSE
         {weight: weight, positive: CASE WHEN weight > 0 THEN weight ELSE 0.0 END,
          negative: CASE WHEN weight < 0 THEN -weight ELSE 0.0 END} END}) AS g
RETURN g.graphName AS graph_name, g.nodeCount AS node_count, g.relationshipCount AS relationship_count
