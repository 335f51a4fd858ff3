//! The shared reqwest client (one connection pool for all providers) and helpers shared by the
//! HTTP providers.

use std::time::Duration;

/// Builds the one HTTP client aiw uses for every remote provider.
pub fn client(connect_timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .user_agent(concat!("aiw/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}
