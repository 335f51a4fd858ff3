//! The multi-line input editor of `aiw chat` and its prompt history: text as lines of chars,
//! a cursor, and the edits the keys ask for. Pure data; `app.rs` decides which key edits.

/// The draft being typed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Editor {
    lines: Vec<Vec<char>>,
    row: usize,
    col: usize,
}

impl Editor {
    /// An editor holding `text`, cursor at the end.
    pub fn with_text(text: &str) -> Self {
        let mut e = Self::default();
        e.insert_str(text);
        e
    }

    fn ensure(&mut self) {
        if self.lines.is_empty() {
            self.lines.push(Vec::new());
        }
    }

    /// The whole draft.
    pub fn text(&self) -> String {
        self.lines
            .iter()
            .map(|l| l.iter().collect::<String>())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Whether nothing is typed.
    pub fn is_empty(&self) -> bool {
        self.lines.iter().all(Vec::is_empty)
    }

    /// The lines, for drawing.
    pub fn lines(&self) -> Vec<String> {
        if self.lines.is_empty() {
            return vec![String::new()];
        }
        self.lines.iter().map(|l| l.iter().collect()).collect()
    }

    /// Number of lines.
    pub fn line_count(&self) -> usize {
        self.lines.len().max(1)
    }

    /// Cursor (row, column in chars).
    pub fn cursor(&self) -> (usize, usize) {
        (self.row, self.col)
    }

    /// Whether the cursor is on the first line.
    pub fn on_first_line(&self) -> bool {
        self.row == 0
    }

    /// Whether the cursor is on the last line.
    pub fn on_last_line(&self) -> bool {
        self.row + 1 >= self.line_count()
    }

    /// Types a character.
    pub fn insert(&mut self, c: char) {
        self.ensure();
        if c == '\n' {
            self.newline();
            return;
        }
        self.lines[self.row].insert(self.col, c);
        self.col += 1;
    }

    /// Inserts text (a paste): CRLF and CR become line breaks, tabs four spaces, other
    /// control characters are dropped so they cannot reach the terminal.
    pub fn insert_str(&mut self, s: &str) {
        let s = s.replace("\r\n", "\n").replace('\r', "\n");
        for c in s.chars() {
            match c {
                '\n' => self.newline(),
                '\t' => {
                    for _ in 0..4 {
                        self.insert(' ');
                    }
                }
                c if c.is_control() => {}
                c => self.insert(c),
            }
        }
    }

    /// Splits the line at the cursor.
    pub fn newline(&mut self) {
        self.ensure();
        let tail = self.lines[self.row].split_off(self.col);
        self.row += 1;
        self.lines.insert(self.row, tail);
        self.col = 0;
    }

    /// Deletes before the cursor (joining lines at the start of one).
    pub fn backspace(&mut self) {
        self.ensure();
        if self.col > 0 {
            self.col -= 1;
            self.lines[self.row].remove(self.col);
        } else if self.row > 0 {
            let line = self.lines.remove(self.row);
            self.row -= 1;
            self.col = self.lines[self.row].len();
            self.lines[self.row].extend(line);
        }
    }

    /// Deletes under the cursor.
    pub fn delete(&mut self) {
        self.ensure();
        if self.col < self.lines[self.row].len() {
            self.lines[self.row].remove(self.col);
        } else if self.row + 1 < self.lines.len() {
            let next = self.lines.remove(self.row + 1);
            self.lines[self.row].extend(next);
        }
    }

    /// Deletes the word before the cursor.
    pub fn delete_word(&mut self) {
        self.ensure();
        if self.col == 0 {
            self.backspace();
            return;
        }
        let line = &mut self.lines[self.row];
        let mut start = self.col;
        while start > 0 && line[start - 1] == ' ' {
            start -= 1;
        }
        while start > 0 && line[start - 1] != ' ' {
            start -= 1;
        }
        line.drain(start..self.col);
        self.col = start;
    }

    /// Deletes from the line start to the cursor.
    pub fn clear_line(&mut self) {
        self.ensure();
        self.lines[self.row].drain(..self.col);
        self.col = 0;
    }

    /// Cursor left (wrapping to the previous line).
    pub fn left(&mut self) {
        if self.col > 0 {
            self.col -= 1;
        } else if self.row > 0 {
            self.row -= 1;
            self.col = self.lines[self.row].len();
        }
    }

    /// Cursor right (wrapping to the next line).
    pub fn right(&mut self) {
        self.ensure();
        if self.col < self.lines[self.row].len() {
            self.col += 1;
        } else if self.row + 1 < self.lines.len() {
            self.row += 1;
            self.col = 0;
        }
    }

    /// Cursor up a line.
    pub fn up(&mut self) {
        if self.row > 0 {
            self.row -= 1;
            self.col = self.col.min(self.lines[self.row].len());
        }
    }

    /// Cursor down a line.
    pub fn down(&mut self) {
        if self.row + 1 < self.lines.len() {
            self.row += 1;
            self.col = self.col.min(self.lines[self.row].len());
        }
    }

    /// Start of the line.
    pub fn home(&mut self) {
        self.col = 0;
    }

    /// End of the line.
    pub fn end(&mut self) {
        self.ensure();
        self.col = self.lines[self.row].len();
    }

    /// Empties the editor, returning the text.
    pub fn take(&mut self) -> String {
        let t = self.text();
        *self = Self::default();
        t
    }
}

/// Sent prompts, browsed with Up/Down; the draft in progress is kept aside while browsing.
#[derive(Clone, Debug, Default)]
pub struct History {
    entries: Vec<String>,
    pos: Option<usize>,
    draft: String,
}

impl History {
    /// History seeded from earlier prompts (oldest first).
    pub fn new(entries: Vec<String>) -> Self {
        Self {
            entries,
            pos: None,
            draft: String::new(),
        }
    }

    /// Records a sent prompt (consecutive duplicates are kept once).
    pub fn push(&mut self, s: String) {
        if self.entries.last() != Some(&s) {
            self.entries.push(s);
        }
        self.pos = None;
    }

    /// The previous entry, keeping `current` as the draft when leaving it.
    pub fn older(&mut self, current: &str) -> Option<&str> {
        let next = match self.pos {
            None => {
                self.draft = current.to_string();
                self.entries.len().checked_sub(1)?
            }
            Some(0) => return None,
            Some(p) => p - 1,
        };
        self.pos = Some(next);
        self.entries.get(next).map(String::as_str)
    }

    /// The next entry, or the kept draft after the newest.
    pub fn newer(&mut self) -> Option<&str> {
        let p = self.pos?;
        if p + 1 < self.entries.len() {
            self.pos = Some(p + 1);
            self.entries.get(p + 1).map(String::as_str)
        } else {
            self.pos = None;
            Some(&self.draft)
        }
    }

    /// The last prompt sent.
    pub fn last(&self) -> Option<&str> {
        self.entries.last().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_across_lines() {
        let mut e = Editor::default();
        for c in "ab".chars() {
            e.insert(c);
        }
        e.newline();
        e.insert('c');
        assert_eq!(e.text(), "ab\nc");
        e.home();
        e.backspace();
        assert_eq!(e.text(), "abc");
        assert_eq!(e.cursor(), (0, 2));
        e.delete_word();
        assert_eq!(e.text(), "c");
    }

    #[test]
    fn paste_normalises_line_ends_and_drops_controls() {
        let e = Editor::with_text("a\r\nb\rc\u{1b}[31m\td");
        assert_eq!(e.text(), "a\nb\nc[31m    d");
        assert_eq!(e.line_count(), 3);
    }

    #[test]
    fn history_keeps_the_draft() {
        let mut h = History::new(vec!["one".into(), "two".into()]);
        assert_eq!(h.older("draft"), Some("two"));
        assert_eq!(h.older(""), Some("one"));
        assert_eq!(h.older(""), None);
        assert_eq!(h.newer(), Some("two"));
        assert_eq!(h.newer(), Some("draft"));
        assert_eq!(h.newer(), None);
    }
}
