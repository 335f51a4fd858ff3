//! Markdown for the terminal: model answers (`CommonMark` via pulldown-cmark) become styled
//! logical lines ([`Block`]s, `read`), code fences are coloured (`highlight`), and blocks are
//! wrapped to the screen width (`wrap`) into ratatui `Line`s. The TUI's view calls
//! [`to_blocks`] then [`wrap`]; nothing here knows about the app's state.
//!
//! Why our own highlighter and not syntect: syntect's grammars and regex engine add a long
//! compile on the 2-core build machines and several MB to the binary, for colouring that a
//! table of keywords, comment markers and string quotes gets mostly right for the languages
//! models write most (Rust, Python, JS/TS, Go, C/C++/Java, shell, JSON/TOML/YAML, SQL).

mod highlight;
mod read;
mod wrap;

#[cfg(test)]
mod tests;

pub use read::{code_blocks, to_blocks};
pub use wrap::wrap;

use ratatui::text::Span;

/// One logical line before wrapping: a prefix for its first screen line, another for the
/// lines it wraps onto, and its styled text.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Block {
    /// Prefix of the first screen line (bullet, quote bar, code gutter).
    pub first: Vec<Span<'static>>,
    /// Prefix of continuation lines.
    pub rest: Vec<Span<'static>>,
    /// The text.
    pub spans: Vec<Span<'static>>,
    /// A horizontal rule: drawn across the width.
    pub rule: bool,
}

impl Block {
    /// A plain block with no prefix.
    pub fn plain(spans: Vec<Span<'static>>) -> Self {
        Self {
            spans,
            ..Self::default()
        }
    }
}
