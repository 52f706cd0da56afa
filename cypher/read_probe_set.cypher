// The probe result kept with a complete run, as the JSON it was written from.
// Parameters: $run_id.
MATCH (:Run {id: $run_id, status: 'complete'})-[:HAS_PROBE]->(p:ProbeSet)
RETURN p.probe_json AS probe_json
