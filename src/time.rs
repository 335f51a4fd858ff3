//! Wall-clock time written down: RFC 3339 stamps for state files, sessions and messages, and
//! the time of day aiw shows (UTC, like every time it prints). The router's clock, which tests
//! replace with a virtual one, is `router::clock`; this only formats.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// RFC 3339 (seconds) for a Unix-ms timestamp.
pub fn rfc3339(ms: u64) -> String {
    // humantime cannot format past the year 9999: clamp ("never") instead of panicking.
    let ms = ms.min(253_402_300_799_000);
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_millis(ms)).to_string()
}

/// The time of day (`14:02:10`) of a Unix-ms timestamp.
pub fn time_of_day(ms: u64) -> String {
    let s = rfc3339(ms);
    s.get(11..19).map_or(s.clone(), str::to_string)
}

/// The current time as RFC 3339 with milliseconds, UTC (`2026-11-23T14:15:02.123Z`): the format
/// of every timestamp in a session. Lexicographic order is time order.
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_clamp_instead_of_panicking_and_show_the_time_of_day() {
        assert_eq!(rfc3339(u64::MAX), "9999-12-31T23:59:59Z");
        assert_eq!(rfc3339(1_500), "1970-01-01T00:00:01Z");
        assert_eq!(time_of_day(3_723_000), "01:02:03");
        assert!(now_rfc3339().ends_with('Z'));
    }
}
