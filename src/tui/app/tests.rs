//! Pure `update()` tests: keys, model switching, cancel, failover, stale messages, commands.
