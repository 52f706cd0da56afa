// name: layer_alignment
// purpose: For every layer of $run_a, the most similar layer of each other run it was compared with
//          (`llm-mri-graphdb compare`), by linear CKA, debiased linear CKA, its permutation p-value or AMI:
//          "which layer of model B is closest to layer 5 of model A", for one other run or model, or across
//          every model stored. The best match has the highest value (for cka_null_p the smallest p-value);
//          ties go to the lower layer; pairs without the measure (CKA of runs without cached activations)
//          are skipped.
// parameters:
//   $run_a string         the run whose layers are matched
//   $measure string       cka, cka_debiased, cka_null_p or ami (default: cka)
//   $other string|null    a run id or model name to restrict to; null means every run compared with run_a (default: null)
// example: store.query("layer_alignment", run_a="3f2a9c0d1e2b4a5f", measure="cka_debiased")
//          llm-mri-graphdb query layer_alignment --param run_a=3f2a9c0d1e2b4a5f --param other=SmolLM2-135M
MATCH (:Run {id: $run_a, status: 'complete'})
MATCH (la:Layer {run_id: $run_a})-[s:ALIGNS]-(lb:Layer)
MATCH (rb:Run {id: lb.run_id, status: 'complete'})-[:OF_MODEL]->(m:Model)
WHERE $other IS NULL OR rb.id = $other OR m.name = $other
WITH la.index AS layer, rb, m, lb.index AS other_layer, s,
     CASE $measure WHEN 'cka' THEN s.cka WHEN 'cka_debiased' THEN s.cka_debiased
                   WHEN 'cka_null_p' THEN s.cka_null_p WHEN 'ami' THEN s.ami END AS score
WHERE score IS NOT NULL
ORDER BY CASE $measure WHEN 'cka_null_p' THEN -score ELSE score END DESC, other_layer
WITH layer, rb, m, collect({layer: other_layer, score: score, cka: s.cka, cka_debiased: s.cka_debiased,
                            cka_null_p: s.cka_null_p, ami: s.ami})[0] AS best
RETURN layer, m.name AS model, rb.id AS run_id, best.layer AS best_layer, rb.n_layers AS n_layers,
       best.score AS score, best.cka AS cka, best.cka_debiased AS cka_debiased, best.cka_null_p AS cka_null_p,
       best.ami AS ami
ORDER BY model, run_id, layer
