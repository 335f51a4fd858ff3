//! The full-screen chat (placeholder until `aiw chat` lands).
