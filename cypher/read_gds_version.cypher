// The installed Graph Data Science version (fails when GDS is missing).
// Parameters: none.
RETURN gds.version() AS version
