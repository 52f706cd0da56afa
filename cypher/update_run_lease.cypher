// Idempotent: the heartbeat of a writer; extends the lease of its staging version. No row: the version was
// removed (`runs gc`, `runs rm`) or published.
// Parameters: $version, $lease_ms.
MATCH (r:Run {id: $version, status: 'writing'})
SET r.lease_until = datetime() + duration({milliseconds: $lease_ms})
RETURN r.id AS id
