// Regions of one complete run in canonical order, with their per-label counts.
// Parameters: $run_id.
MATCH (run:Run {id: $run_id, status: 'complete'})
MATCH (g:Region {version: run.version})
RETURN g.idx AS idx, g.uid AS uid, g.layer AS layer, g.counts AS counts
ORDER BY idx
