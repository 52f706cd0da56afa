// Write all-label degree and strength (from gds.degree) onto one batch of regions.
// Parameters: $rows (list of [uid, degree, strength]).
UNWIND $rows AS row
MATCH (g:Region {uid: row[0]})
SET g.degree = row[1], g.strength = row[2]
