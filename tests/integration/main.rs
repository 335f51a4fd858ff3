//! The one integration-test binary: black-box tests that run the real `aiw` binary with a
//! temporary config, data, state and home directory, `NO_COLOR=1`, and no provider keys.
//! One module per area; each says what goes there.

/// The command line itself: `--help`, `--version`, the man page, completions (and their
/// drift from `completions/`), bad arguments, `aiw config`, exit codes of usage errors.
mod cli;
/// `install.sh` into a temporary prefix, then the installed binary (runs when
/// `AIW_TEST_INSTALL=1`, as `scripts/test.sh` sets it).
mod install;
/// Shared helpers: the sandboxed `aiw` command and config files pointing at the emulator.
mod util;
