// Write all-label degree (in + out region pairs) and strength (in + out :FLOWS_TOTAL weight) onto
// every region of one complete run, computed in the database.
// Parameters: $run_id.
MATCH (run:Run {id: $run_id, status: 'complete'})
MATCH (g:Region {version: run.version})
CALL (g) {
  OPTIONAL MATCH (g)-[f:FLOWS_TOTAL]-()
  RETURN count(f) AS degree, toFloat(coalesce(sum(f.weight), 0.0)) AS strength
}
SET g.degree = toFloat(degree), g.strength = strength
RETURN count(g) AS regions
