//! The provider-neutral conversation (placeholder until sessions land).
pub mod fit;
