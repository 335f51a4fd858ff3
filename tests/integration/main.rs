//! The one integration test binary. Each module is a group of black-box tests:
//! - `providers`: the provider conformance list, one set of cases run against the Anthropic,
//!   OpenAI and Gemini clients talking to the emulator over 127.0.0.1.

mod providers;
