// Neo4j version and edition of the server (the GDS version is read_gds_version).
// Parameters: none.
CALL dbms.components() YIELD name, versions, edition
WHERE name = 'Neo4j Kernel'
RETURN versions[0] AS neo4j, edition
