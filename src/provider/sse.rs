//! Server-sent events parser (placeholder until the provider clients land).
