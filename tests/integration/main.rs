//! The one integration-test binary. Each module tests one area black-box, against the provider
//! emulator on 127.0.0.1 (never a real provider):
//! - `support`: building settings and routers that point at an emulator.
//! - `router`: failover, breakers, probes, retries, timeouts, mid-stream seams, exact call counts.
//! - `ask`: the `aiw ask` binary end to end (args, stdin, --json, exit codes, no secrets).

mod ask;
mod router;
mod support;
