// Regions of one complete run in canonical order with their per-label counts, as columns.
// Parameters: $run_id.
MATCH (run:Run {id: $run_id, status: 'complete'})
MATCH (g:Region {version: run.version})
WITH g ORDER BY g.idx
RETURN collect(g.uid) AS uid, collect(g.layer) AS layer, collect(g.counts) AS counts
