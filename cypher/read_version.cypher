// The status of one version (staging, complete or retired), or no row when it does not exist.
// Parameters: $version.
MATCH (r:Run {version: $version})
RETURN r.status AS status
