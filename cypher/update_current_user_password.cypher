// Change the connected user's password (run against the `system` database).
// Parameters: $old (string, the current password), $new (string, at least 8 characters).
ALTER CURRENT USER SET PASSWORD FROM $old TO $new
