// Create one batch of edges of a staging version: per (source, target) pair one :FLOWS_TOTAL
// (sum over labels) and one :FLOWS per label row.
// Parameters: $rows (list of {s, t, total, labels, weights}); s and t are Region uids.
UNWIND $rows AS row
MATCH (s:Region {uid: row.s})
MATCH (t:Region {uid: row.t})
CREATE (s)-[:FLOWS_TOTAL {weight: row.total}]->(t)
WITH s, t, row
UNWIND range(0, size(row.labels) - 1) AS k
CREATE (s)-[:FLOWS {label: row.labels[k], weight: row.weights[k]}]->(t)
