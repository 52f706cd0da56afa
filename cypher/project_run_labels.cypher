// Project the flow graph of one complete run, restricted to the labels at positions $label_idx of
// run.label_names, into the GDS catalog: one relationship per (source, target) pair whose summed :FLOWS
// weight over those labels is positive (N-D correlations below or at 0 carry no flow). Grid runs keep the
// regions those labels occupy, component runs every region (as NRAG.select_labels). Node property idx =
// canonical index. $undirected projects every relationship as undirected (Louvain, Leiden).
// Parameters: $graph_name, $undirected (bool), $run_id, $label_idx (list of ints).
MATCH (run:Run {id: $run_id, status: 'complete'})
MATCH (s:Region {version: run.version})
WHERE run.kind <> 'grid' OR reduce(c = 0, i IN $label_idx | c + s.counts[i]) > 0
WITH s, [i IN $label_idx | run.label_names[i]] AS labels
OPTIONAL MATCH (s)-[f:FLOWS]->(t:Region)
WHERE f.label IN labels
WITH s, t, sum(f.weight) AS weight
WITH s, CASE WHEN weight > 0 THEN t END AS t, weight
WITH gds.graph.project($graph_name, s, t,
       {sourceNodeProperties: {idx: s.idx}, targetNodeProperties: CASE WHEN t IS NULL THEN null ELSE {idx: t.idx} END,
        relationshipProperties: CASE WHEN t IS NULL THEN null ELSE {weight: weight} END},
       {undirectedRelationshipTypes: CASE WHEN $undirected THEN ['*'] ELSE [] END}) AS g
RETURN g.graphName AS graph_name, g.nodeCount AS node_count, g.relationshipCount AS relationship_count
