// Create one batch of edges from layer $layer to $layer + 1 of a staging version: per (source, target)
// pair one :FLOWS_TOTAL (sum over labels) and one :FLOWS per label row. The two layers' regions are
// fetched once through the (version, layer) index and addressed by position in canonical (x, y) order.
// Rows are positional lists: [source position, target position, total, label names, weights].
// Parameters: $version, $layer, $rows.
MATCH (s:Region {version: $version, layer: $layer})
WITH s ORDER BY s.x, s.y
WITH collect(s) AS sources
MATCH (t:Region {version: $version, layer: $layer + 1})
WITH sources, t ORDER BY t.x, t.y
WITH sources, collect(t) AS targets
UNWIND $rows AS row
WITH sources[row[0]] AS s, targets[row[1]] AS t, row
CREATE (s)-[:FLOWS_TOTAL {weight: row[2]}]->(t)
WITH s, t, row
UNWIND range(0, size(row[3]) - 1) AS k
CREATE (s)-[:FLOWS {label: row[3][k], weight: row[4][k]}]->(t)
