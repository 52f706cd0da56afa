// Number of (:Text)-[:IN]-> memberships of one version (a write checks it before publishing).
// Parameters: $version.
MATCH (g:Region {version: $version})
RETURN sum(COUNT { (g)<-[:IN]-(:Text) }) AS n
