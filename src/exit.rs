//! Exit codes, in one place. Documented in `cli::EXIT_STATUS_HELP`, the man page and README.

use std::process::ExitCode;

/// Success.
pub const OK: u8 = 0;
/// `aiw review` found blocking findings; `aiw status` says the route cannot answer.
pub const FINDINGS: u8 = 1;
/// Usage, configuration or other error.
pub const USAGE: u8 = 2;
/// No model of the route could answer.
pub const NO_MODEL: u8 = 3;
/// The answer was cut short and marked partial.
pub const PARTIAL: u8 = 4;
/// Temporarily unavailable (EX_TEMPFAIL): the review was skipped or queued.
pub const UNAVAILABLE: u8 = 75;
/// Interrupted by Ctrl+C.
pub const INTERRUPTED: u8 = 130;

/// An `ExitCode` from one of the constants.
pub fn code(c: u8) -> ExitCode {
    ExitCode::from(c)
}
