// The stored alignment of two runs: one row per ALIGNS between their layers, in its stored direction.
// Parameters: $run_a, $run_b.
MATCH (x:Layer)-[s:ALIGNS]->(y:Layer)
WHERE (x.run_id = $run_a AND y.run_id = $run_b) OR (x.run_id = $run_b AND y.run_id = $run_a)
RETURN x.run_id AS source_run, x.index AS source, y.index AS target, s.cka AS cka,
       s.cka_debiased AS cka_debiased, s.cka_null_p AS cka_null_p, s.ami AS ami
