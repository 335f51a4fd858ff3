//! Tests of the markdown renderer: parsing, tables, wrapping, highlighting.

use ratatui::style::Modifier;
use ratatui::text::Line;

use super::highlight::{COMMENT, KW, STR, highlight};
use super::wrap::spans_width;
use super::*;

fn text_of(lines: &[Line<'_>]) -> Vec<String> {
    lines
        .iter()
        .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
        .collect()
}

fn render(md: &str, width: u16) -> Vec<String> {
    let lines: Vec<Line<'static>> = to_blocks(md).iter().flat_map(|b| wrap(b, width)).collect();
    text_of(&lines)
}

#[test]
fn tables_are_drawn_with_aligned_columns_and_a_header_rule() {
    let md = "| model | pass | note |\n|---|---:|:---:|\n| gpt-5.5 | 9/10 | ok |\n| 小模型 | 3/10 | x |\n\nafter";
    assert_eq!(
        render(md, 80),
        vec![
            "model   │ pass │ note",
            "────────┼──────┼─────",
            "gpt-5.5 │ 9/10 │  ok",
            "小模型  │ 3/10 │  x",
            "",
            "after",
        ]
    );
    let blocks = to_blocks(md);
    assert!(
        blocks[0]
            .spans
            .iter()
            .any(|s| s.content == "model" && s.style.add_modifier.contains(Modifier::BOLD)),
        "the header is bold"
    );
}

#[test]
fn paragraphs_lists_and_code() {
    let md = "Hello **world**.\n\n- one\n- two\n\n```rust\nfn main() {}\n```\n";
    assert_eq!(
        render(md, 40),
        vec![
            "Hello world.",
            "",
            "• one",
            "• two",
            "",
            "╭─ rust",
            "│ fn main() {}",
            "╰─",
        ]
    );
}

#[test]
fn wraps_words_and_indents_list_continuations() {
    let md = "1. alpha beta gamma delta";
    assert_eq!(
        render(md, 12),
        vec!["1. alpha", "   beta", "   gamma", "   delta"]
    );
}

#[test]
fn wide_characters_never_straddle_the_edge() {
    let b = Block::plain(vec![Span::raw("日本語のテキスト")]);
    let lines = wrap(&b, 5);
    for l in &lines {
        assert!(spans_width(&l.spans) <= 5, "{lines:?}");
    }
    assert_eq!(text_of(&lines), vec!["日本", "語の", "テキ", "スト"]);
}

#[test]
fn long_words_are_cut() {
    let b = Block::plain(vec![Span::raw("abcdefghij")]);
    assert_eq!(text_of(&wrap(&b, 4)), vec!["abcd", "efgh", "ij"]);
}

#[test]
fn width_one_does_not_loop() {
    let b = Block::plain(vec![Span::raw("a 日 b")]);
    assert!(!wrap(&b, 1).is_empty());
    assert!(!wrap(&b, 0).is_empty());
}

#[test]
fn highlighter_colours_keywords_strings_comments() {
    let lines = highlight("rust", "let s = \"hi\"; // note\n/* a\nb */ fn");
    assert_eq!(lines.len(), 3);
    assert!(lines[0].iter().any(|s| s.content == "let" && s.style == KW));
    assert!(
        lines[0]
            .iter()
            .any(|s| s.content == "\"hi\"" && s.style == STR)
    );
    assert!(
        lines[0]
            .iter()
            .any(|s| s.content == "// note" && s.style == COMMENT)
    );
    assert_eq!(lines[1][0].style, COMMENT);
    assert!(lines[2].iter().any(|s| s.content == "fn" && s.style == KW));
    assert_eq!(highlight("nosuchlang", "x").len(), 1);
}

#[test]
fn unterminated_fence_while_streaming_shows_as_code() {
    assert_eq!(
        render("```py\nprint(1)", 40),
        vec!["╭─ py", "│ print(1)", "╰─"]
    );
}

#[test]
fn code_blocks_are_found_in_order() {
    let md = "```\na\n```\ntext\n```sh\nls -l\n```";
    assert_eq!(code_blocks(md), ["a\n", "ls -l\n"]);
    assert!(code_blocks("no code").is_empty());
}
