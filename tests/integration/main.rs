//! The one integration-test binary: black-box tests that run the real `aiw` binary (or use the
//! library from outside) with a temporary config, data and state dir and `NO_COLOR=1`. One
//! module per area; a comment on each says what goes there.

/// `aiw sessions` and the session files it reads: list, show, export, rm, salvage warnings.
mod sessions;
