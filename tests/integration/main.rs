//! The one integration-test binary: black-box tests of the `aiw` binary. One module per
//! area; each says what goes in it.

mod chat;
