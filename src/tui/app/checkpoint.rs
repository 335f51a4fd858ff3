//! The flush policy of a streaming answer: when the chat checkpoints the text so far to the
//! session file, which bounds what a crash or `kill -9` loses. A checkpoint is written as soon
//! as [`CHECKPOINT_BYTES`] of new text have arrived since the last one, and on the clock tick
//! once [`CHECKPOINT_EVERY`] has passed with any new text; each is one synced record
//! (`SessionWriter::partial`). So at any moment less than [`CHECKPOINT_BYTES`] of the answer
//! on screen is unsaved, and none of it is older than about a second (plus one 100 ms tick).

use std::time::{Duration, Instant};

use super::{Effect, Pending};
use crate::provider::Block;

/// The longest a streaming answer's new text waits for its checkpoint.
pub const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);
/// New text that forces a checkpoint right away: the most a crash can lose of an answer.
pub const CHECKPOINT_BYTES: usize = 1024;

/// Bytes of answer text so far (what a checkpoint saves), without building the text.
fn text_len(p: &Pending) -> usize {
    p.segments
        .iter()
        .flat_map(|s| &s.blocks)
        .filter_map(Block::as_text)
        .map(str::len)
        .sum()
}

/// The checkpoint that is due now, if any: [`CHECKPOINT_BYTES`] of new text, or new text and
/// [`CHECKPOINT_EVERY`] since the last checkpoint. Marks it taken.
pub fn due(p: &mut Pending, now: Instant) -> Option<Effect> {
    let len = text_len(p);
    let new = len.saturating_sub(p.checkpoint.1);
    let late = now.saturating_duration_since(p.checkpoint.0) >= CHECKPOINT_EVERY;
    if new == 0 || (new < CHECKPOINT_BYTES && !late) {
        return None;
    }
    let model = p.segments.last().map(|s| s.model.clone())?;
    p.checkpoint = (now, len);
    Some(Effect::SavePartial {
        text: p.text(),
        model,
    })
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;
    use crate::tui::app::Msg;
    use crate::tui::app::tests::update;
    use crate::tui::app::tests::{OPUS, ask, test_app, text_ev};

    fn saved(fx: &[Effect]) -> Option<&str> {
        fx.iter().find_map(|e| match e {
            Effect::SavePartial { text, .. } => Some(text.as_str()),
            _ => None,
        })
    }

    /// Text arriving fast is checkpointed every `CHECKPOINT_BYTES`, with no clock tick at all:
    /// what is unsaved stays under that many bytes.
    #[test]
    fn a_fast_stream_is_checkpointed_by_size_without_waiting_for_the_clock() {
        let mut app = test_app();
        let id = ask(&mut app, "hi");
        let chunk = "x".repeat(100);
        let mut saved_len = 0;
        let mut checkpoints = 0;
        for i in 1..=25 {
            let fx = update(&mut app, text_ev(id, OPUS, &chunk));
            if let Some(t) = saved(&fx) {
                saved_len = t.len();
                checkpoints += 1;
            }
            assert!(i * 100 - saved_len < CHECKPOINT_BYTES, "chunk {i}");
        }
        // 2,500 bytes: checkpoints at 1,100 and 2,200 bytes.
        assert_eq!((checkpoints, saved_len), (2, 2200));
    }

    /// A slow stream is checkpointed by the clock: new text waits at most `CHECKPOINT_EVERY`.
    #[test]
    fn a_slow_stream_is_checkpointed_once_a_second() {
        let mut app = test_app();
        let t0 = app.now;
        let id = ask(&mut app, "hi");
        assert!(saved(&update(&mut app, text_ev(id, OPUS, "abc"))).is_none());
        let tick = |app: &mut crate::tui::app::App, ms| {
            update(
                app,
                Msg::Tick {
                    now: t0 + Duration::from_millis(ms),
                    wall: SystemTime::now(),
                },
            )
        };
        assert!(tick(&mut app, 900).is_empty());
        assert_eq!(saved(&tick(&mut app, 1000)), Some("abc"));
        // Nothing new: no second checkpoint.
        assert!(tick(&mut app, 2500).is_empty());
    }
}
