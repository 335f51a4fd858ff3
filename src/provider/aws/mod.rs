//! AWS plumbing for the Bedrock client, with no Bedrock knowledge: SigV4 request signing
//! (`sigv4`), the event-stream binary framing of streamed responses (`eventstream`), and the
//! credential chain (`credentials`).

pub mod credentials;
pub mod eventstream;
pub mod sigv4;
