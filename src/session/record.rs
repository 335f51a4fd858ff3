//! The on-disk shape of what an answer record keeps from the router: its segments (who wrote
//! which blocks) and its attempts (who was tried and how it ended). The router's
//! [`Segment`] and [`Attempt`] are in-memory types; the session file's schema is decided here,
//! so a change in the router does not silently change (or break the loading of) stored files.
//! Used through `#[serde(with = ...)]` on [`super::AnswerRecord`].

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::config::ModelRef;
use crate::provider::{Block, ErrorClass};
use crate::router::{Attempt, Outcome, Segment};

/// A segment as stored. Format 1 (before content blocks) held `text` instead of `blocks`.
#[derive(Serialize, Deserialize)]
struct SegmentRecord {
    model: ModelRef,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    blocks: Option<Vec<Block>>,
    #[serde(default, skip_serializing)]
    text: Option<String>,
}

impl From<SegmentRecord> for Segment {
    fn from(r: SegmentRecord) -> Self {
        let blocks = match (r.blocks, r.text) {
            (Some(b), _) => b,
            (None, Some(t)) if !t.is_empty() => vec![Block::text(t)],
            (None, _) => Vec::new(),
        };
        Self {
            model: r.model,
            blocks,
        }
    }
}

/// An attempt as stored.
#[derive(Serialize, Deserialize)]
struct AttemptRecord {
    model: ModelRef,
    outcome: Outcome,
    #[serde(default)]
    error_class: Option<ErrorClass>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    status: Option<u16>,
    #[serde(default)]
    ttft_ms: Option<u64>,
    #[serde(default)]
    ms: u64,
    #[serde(default)]
    chars: usize,
}

impl From<&Attempt> for AttemptRecord {
    fn from(a: &Attempt) -> Self {
        Self {
            model: a.model.clone(),
            outcome: a.outcome,
            error_class: a.error_class,
            error: a.error.clone(),
            status: a.status,
            ttft_ms: a.ttft_ms,
            ms: a.ms,
            chars: a.chars,
        }
    }
}

impl From<AttemptRecord> for Attempt {
    fn from(r: AttemptRecord) -> Self {
        Self {
            model: r.model,
            outcome: r.outcome,
            error_class: r.error_class,
            error: r.error,
            status: r.status,
            ttft_ms: r.ttft_ms,
            ms: r.ms,
            chars: r.chars,
        }
    }
}

/// `#[serde(with)]` for `Vec<Segment>`.
pub(super) mod segments {
    use super::{Deserialize, Deserializer, Segment, SegmentRecord, Serializer};

    pub fn serialize<S: Serializer>(v: &[Segment], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(|seg| SegmentRecord {
            model: seg.model.clone(),
            blocks: Some(seg.blocks.clone()),
            text: None,
        }))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Segment>, D::Error> {
        let v = Vec::<SegmentRecord>::deserialize(d)?;
        Ok(v.into_iter().map(Segment::from).collect())
    }
}

/// `#[serde(with)]` for `Vec<Attempt>`.
pub(super) mod attempts {
    use super::{Attempt, AttemptRecord, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[Attempt], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(AttemptRecord::from))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Attempt>, D::Error> {
        let v = Vec::<AttemptRecord>::deserialize(d)?;
        Ok(v.into_iter().map(Attempt::from).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, Deserialize)]
    struct Holder {
        #[serde(with = "segments")]
        segments: Vec<Segment>,
        #[serde(with = "attempts")]
        attempts: Vec<Attempt>,
    }

    /// The stored shape is fixed here: a segment is `model` + `blocks`; format 1's `text`
    /// still loads; an attempt keeps every field.
    #[test]
    fn segments_and_attempts_round_trip_and_format_1_loads() {
        let old = r#"{"segments":[{"model":"p/m","text":"hi"}],
            "attempts":[{"model":"p/m","outcome":"failed","error_class":"overloaded","error":"529","status":529,"ttft_ms":null,"ms":12,"chars":0}]}"#;
        let h: Holder = serde_json::from_str(old).unwrap();
        assert_eq!(h.segments[0].text(), "hi");
        assert_eq!(h.attempts[0].outcome, Outcome::Failed);
        assert_eq!(h.attempts[0].status, Some(529));
        let out = serde_json::to_value(&h).unwrap();
        assert_eq!(out["segments"][0]["model"], "p/m");
        assert_eq!(out["segments"][0]["blocks"][0]["text"], "hi");
        assert!(out["segments"][0].get("text").is_none());
        assert_eq!(out["attempts"][0]["error_class"], "overloaded");
        assert_eq!(out["attempts"][0]["ms"], 12);
        let back: Holder = serde_json::from_value(out).unwrap();
        assert_eq!(back.segments, h.segments);
    }
}
