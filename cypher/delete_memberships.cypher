// Delete one batch of the (:Text)-[:IN]-> memberships of a version's regions; returns how many went.
// Parameters: $version, $limit.
MATCH (:Region {version: $version})<-[m:IN]-(:Text)
WITH m LIMIT $limit
DELETE m
RETURN count(*) AS deleted
