//! Continuing an answer another model started: after a mid-stream failure the next model gets
//! the partial answer as conversation state (an assistant turn, then an instruction to go on),
//! never as a prefill. What it repeats at the seam is removed by [`super::seam::SeamFilter`].

use crate::conversation::text_of;
use crate::provider::{Block, ChatRequest, Message};

/// The message the next model gets when it must continue an answer another model started.
pub const CONTINUE_PROMPT: &str = "[aiw] Your previous reply above was cut off mid-stream because the model writing it failed. Continue it from exactly where it stops: do not repeat any of it, do not start over and do not mention the interruption. Output only the rest of the reply.";

/// The request for a model that continues a cut-off answer: the partial answer (its text; the
/// cut model's reasoning is not the next model's) is carried as conversation state, an
/// assistant turn followed by an instruction, not as a prefill.
pub fn continuation(req: &ChatRequest, prior: &[Block]) -> ChatRequest {
    let mut r = req.clone();
    r.messages.push(Message::assistant(text_of(prior)));
    r.messages.push(Message::user(CONTINUE_PROMPT));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_text_becomes_an_assistant_turn_then_the_instruction() {
        let req = ChatRequest::user("explain");
        let prior = vec![Block::text("The first half, ")];
        let r = continuation(&req, &prior);
        assert_eq!(r.messages.len(), 3);
        assert_eq!(text_of(&r.messages[1].blocks), "The first half, ");
        assert_eq!(text_of(&r.messages[2].blocks), CONTINUE_PROMPT);
        assert_eq!(req.messages.len(), 1, "the original request is unchanged");
    }
}
