//! Integration tests of the emulator over real TCP, one test binary with modules per
//! area (streams, errors, faults, scripts/recording/control, tool use).

mod behaviour;
mod client;
mod errors;
mod faults;
mod streams;
mod tools;
