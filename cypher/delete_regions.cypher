// Delete one batch of a version's regions with their edges; returns how many went.
// Parameters: $version, $limit.
MATCH (g:Region {version: $version})
WITH g LIMIT $limit
DETACH DELETE g
RETURN count(*) AS deleted
