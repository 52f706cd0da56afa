// Idempotent
// Store the alignment of two runs' layers, replacing the pair's earlier ALIGNS (either direction) in the
// same transaction: (:Layer {run_id, index}) per layer, (:Layer)-[:ALIGNS {cka, cka_debiased, cka_null_p, ami}]->(:Layer)
// per pair, from a layer of $run_a to a layer of $run_b. A missing measure is null.
// Parameters: $run_a, $run_b, $rows (list of {a, b, cka, cka_debiased, cka_null_p, ami}).
OPTIONAL MATCH (x:Layer)-[old:ALIGNS]->(y:Layer)
WHERE (x.run_id = $run_a AND y.run_id = $run_b) OR (x.run_id = $run_b AND y.run_id = $run_a)
DELETE old
WITH count(*) AS removed
UNWIND $rows AS row
MERGE (la:Layer {run_id: $run_a, index: row.a})
MERGE (lb:Layer {run_id: $run_b, index: row.b})
CREATE (la)-[:ALIGNS {cka: row.cka, cka_debiased: row.cka_debiased, cka_null_p: row.cka_null_p, ami: row.ami,
                      computed_at: datetime()}]->(lb)
RETURN count(*) AS written
