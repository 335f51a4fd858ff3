//! The seam of a mid-stream failover: the next model is asked to continue an answer another
//! model started, and this filter removes whatever it repeats (the tail it overlaps, or a full
//! restart from the beginning) so the user never sees a duplicated paragraph.

/// Buffers the start of a continuation until it can tell whether it repeats the prior text.
#[derive(Debug)]
pub struct SeamFilter {
    prior: String,
    buf: String,
    decided: bool,
}

/// Characters to collect before deciding (a restart is recognised within them).
const DECIDE_AT: usize = 64;
/// Shortest overlap worth removing (shorter ones are likely coincidence).
const MIN_OVERLAP: usize = 8;

impl SeamFilter {
    /// A filter for a continuation of `prior`.
    pub fn new(prior: &str) -> Self {
        Self {
            prior: prior.to_string(),
            buf: String::new(),
            decided: prior.is_empty(),
        }
    }

    /// Feeds continuation text; returns what may be shown now.
    pub fn push(&mut self, text: &str) -> String {
        if self.decided {
            return text.to_string();
        }
        self.buf.push_str(text);
        // Still possibly replaying the prior text from its start: keep waiting.
        if self.prior.starts_with(&self.buf) && self.buf.len() < self.prior.len() {
            return String::new();
        }
        if self.buf.chars().count() < DECIDE_AT && !self.buf.starts_with(&self.prior) {
            // Could still be an overlap with the tail; wait for enough text.
            if self.prior_tail_could_match() {
                return String::new();
            }
        }
        self.decide()
    }

    /// Ends the continuation; returns whatever was still held back.
    pub fn finish(&mut self) -> String {
        if self.decided {
            return String::new();
        }
        if self.prior.starts_with(&self.buf) {
            // The continuation only repeated (part of) what was already shown.
            self.decided = true;
            self.buf.clear();
            return String::new();
        }
        self.decide()
    }

    fn prior_tail_could_match(&self) -> bool {
        // Some suffix of prior is a prefix of buf, or buf is a prefix of some suffix of prior.
        self.prior
            .char_indices()
            .map(|(i, _)| &self.prior[i..])
            .any(|tail| tail.starts_with(&self.buf) || self.buf.starts_with(tail))
    }

    fn decide(&mut self) -> String {
        self.decided = true;
        let buf = std::mem::take(&mut self.buf);
        if buf.starts_with(&self.prior) {
            return buf[self.prior.len()..].to_string();
        }
        // Longest suffix of prior that is a prefix of buf.
        let best = self
            .prior
            .char_indices()
            .map(|(i, _)| &self.prior[i..])
            .find(|tail| tail.chars().count() >= MIN_OVERLAP && buf.starts_with(tail))
            .map_or(0, str::len);
        buf[best..].to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(prior: &str, pieces: &[&str]) -> String {
        let mut f = SeamFilter::new(prior);
        let mut out: String = pieces.iter().map(|p| f.push(p)).collect();
        out.push_str(&f.finish());
        out
    }

    #[test]
    fn clean_continuation_passes_through() {
        assert_eq!(
            run("The answer is", &[" 42", " because it is."]),
            " 42 because it is."
        );
    }

    #[test]
    fn overlapping_tail_is_removed() {
        let prior = "fn main() {\n    println!(\"hello\");\n";
        assert_eq!(run(prior, &["    println!(\"hel", "lo\");\n}\n"]), "}\n");
    }

    #[test]
    fn full_restart_is_removed() {
        let prior = "Step one: install. Step two: run the";
        assert_eq!(
            run(
                prior,
                &["Step one: ", "install. Step two: run the", " tests."]
            ),
            " tests."
        );
    }

    #[test]
    fn short_coincidental_overlap_is_kept() {
        assert_eq!(run("it is a", &["a good idea"]), "a good idea");
    }

    #[test]
    fn multibyte_text_is_safe() {
        assert_eq!(run("héllo wörld ", &["wörld ", "ünïcode"]), "wörld ünïcode");
        assert_eq!(run("日本語のテキスト", &["テキストです"]), "テキストです");
        assert_eq!(
            run(
                "日本語のテキストの続きがここに",
                &["テキストの続きがここにあります"]
            ),
            "あります"
        );
    }

    #[test]
    fn continuation_that_only_repeats_adds_nothing() {
        assert_eq!(run("Hello there", &["Hello"]), "");
    }
}
