// Write all-label degree and strength (from gds.degree) onto one batch of regions.
// Parameters: $rows (list of {uid, degree, strength}).
UNWIND $rows AS row
MATCH (g:Region {uid: row.uid})
SET g.degree = row.degree, g.strength = row.strength
