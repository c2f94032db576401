//! Finds where a value stands in a RON source, so that semantic problems (found on the typed
//! model, which keeps no positions) still name a line and a column.
//!
//! A small lexer records every string literal with the field key it belongs to (the nearest
//! `key:` before it, so `requires: ["a", "b"]` gives key `requires` to both) and every key.

/// A position in a source file: 1-based line and column (in characters).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Pos {
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1, in characters.
    pub column: usize,
}

#[derive(Debug)]
struct StrLit {
    value: String,
    key: Option<usize>,
    pos: Pos,
    /// Byte offset just after the closing quote.
    end: usize,
    /// The innermost `(`, `[` or `{` group the string stands in.
    group: usize,
}

#[derive(Debug)]
struct Key {
    name: String,
    pos: Pos,
    group: usize,
}

/// A participant-facing text (`(fr: "...")`) written without an `audio` field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnvoicedText {
    /// Where its `fr` string starts.
    pub pos: Pos,
    /// Byte offset just after the `fr` string's closing quote: where `, audio: Some("...")`
    /// can be inserted.
    pub insert_at: usize,
    /// The French text.
    pub fr: String,
}

/// Every `(fr: "...")` text of a RON source that has no `audio` field, in source order.
/// Purely lexical: it needs no parse, so it works on any document kind.
pub fn unvoiced_texts(src: &str) -> Vec<UnvoicedText> {
    let index = SourceIndex::new(src);
    index
        .strings
        .iter()
        .filter(|s| {
            s.key
                .is_some_and(|k| index.keys[k].name == "fr" && index.keys[k].group == s.group)
        })
        .filter(|s| {
            !index
                .keys
                .iter()
                .any(|k| k.group == s.group && k.name == "audio")
        })
        .map(|s| UnvoicedText {
            pos: s.pos,
            insert_at: s.end,
            fr: s.value.clone(),
        })
        .collect()
}

/// The document's own id: the first `id` string at the top level of the source.
pub fn document_id(src: &str) -> Option<String> {
    let index = SourceIndex::new(src);
    index
        .strings
        .iter()
        .find(|s| s.group == 1 && s.key.is_some_and(|k| index.keys[k].name == "id"))
        .map(|s| s.value.clone())
}

/// The string literals and keys of one RON source, in order.
#[derive(Debug, Default)]
pub struct SourceIndex {
    strings: Vec<StrLit>,
    keys: Vec<Key>,
}

/// Where a problem points.
#[derive(Clone, Copy, Debug)]
pub enum At<'a> {
    /// The `nth` (from 0) string literal `value` that belongs to field `key`.
    Str {
        /// The field.
        key: &'a str,
        /// The string.
        value: &'a str,
        /// Which occurrence.
        nth: usize,
    },
    /// The first field `then` after the first string `value` of field `key`: the `position`
    /// of the anchor whose `id` is `"a1"`.
    FieldAfter {
        /// The field of the string.
        key: &'a str,
        /// The string.
        value: &'a str,
        /// The field to point at.
        then: &'a str,
    },
    /// The first occurrence of field `key`.
    Field(&'a str),
}

impl<'a> At<'a> {
    /// The first string `value` of field `key`.
    pub fn str(key: &'a str, value: &'a str) -> Self {
        Self::Str { key, value, nth: 0 }
    }
}

impl SourceIndex {
    /// Indexes `src`. Never fails: unterminated strings or comments end the index early.
    pub fn new(src: &str) -> Self {
        let mut lx = Lexer {
            chars: src.chars().collect(),
            i: 0,
            byte: 0,
            pos: Pos { line: 1, column: 1 },
        };
        let mut index = Self::default();
        let mut current_key: Option<usize> = None;
        // Group 0 is the file itself; each bracket opens a new group.
        let mut groups: Vec<usize> = vec![0];
        let mut next_group = 1;
        while let Some(c) = lx.skip_trivia() {
            let start = lx.pos;
            if c == '"' {
                lx.bump();
                let value = lx.string_body(None);
                index.strings.push(StrLit {
                    value,
                    key: current_key,
                    pos: start,
                    end: lx.byte,
                    group: groups.last().copied().unwrap_or(0),
                });
            } else if c == 'r' && matches!(lx.peek_at(1), Some('"') | Some('#')) && lx.raw_start() {
                let hashes = lx.count_raw_hashes();
                let value = lx.string_body(Some(hashes));
                index.strings.push(StrLit {
                    value,
                    key: current_key,
                    pos: start,
                    end: lx.byte,
                    group: groups.last().copied().unwrap_or(0),
                });
            } else if c.is_alphabetic() || c == '_' {
                let mut name = String::new();
                while let Some(c) = lx.peek_at(0).filter(|c| c.is_alphanumeric() || *c == '_') {
                    name.push(c);
                    lx.bump();
                }
                if lx.skip_trivia() == Some(':') && lx.peek_at(1) != Some(':') {
                    let group = groups.last().copied().unwrap_or(0);
                    index.keys.push(Key {
                        name,
                        pos: start,
                        group,
                    });
                    current_key = Some(index.keys.len() - 1);
                }
            } else {
                match lx.bump() {
                    Some('(' | '[' | '{') => {
                        groups.push(next_group);
                        next_group += 1;
                    }
                    Some(')' | ']' | '}') if groups.len() > 1 => {
                        groups.pop();
                    }
                    _ => {}
                }
            }
        }
        index
    }

    /// The position `at` names, or the start of the file where it cannot be found.
    pub fn find(&self, at: At<'_>) -> Pos {
        self.try_find(at).unwrap_or(Pos { line: 1, column: 1 })
    }

    fn try_find(&self, at: At<'_>) -> Option<Pos> {
        match at {
            At::Str { key, value, nth } => self
                .strings_of(key, value)
                .nth(nth)
                .or_else(|| self.strings_of(key, value).last())
                .map(|s| s.pos),
            At::FieldAfter { key, value, then } => {
                let from = self.strings_of(key, value).next()?.pos;
                self.keys
                    .iter()
                    .find(|k| k.pos > from && k.name == then)
                    .map(|k| k.pos)
                    .or(Some(from))
            }
            At::Field(key) => self.keys.iter().find(|k| k.name == key).map(|k| k.pos),
        }
    }

    fn strings_of<'s>(&'s self, key: &'s str, value: &'s str) -> impl Iterator<Item = &'s StrLit> {
        self.strings
            .iter()
            .filter(move |s| s.value == value && s.key.is_some_and(|k| self.keys[k].name == key))
    }
}

struct Lexer {
    chars: Vec<char>,
    i: usize,
    /// Byte offset of `chars[i]` in the source.
    byte: usize,
    pos: Pos,
}

impl Lexer {
    fn peek_at(&self, n: usize) -> Option<char> {
        self.chars.get(self.i + n).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek_at(0)?;
        self.i += 1;
        self.byte += c.len_utf8();
        if c == '\n' {
            self.pos.line += 1;
            self.pos.column = 1;
        } else {
            self.pos.column += 1;
        }
        Some(c)
    }

    /// Skips white space and comments; returns the next character without taking it.
    fn skip_trivia(&mut self) -> Option<char> {
        loop {
            match (self.peek_at(0)?, self.peek_at(1)) {
                (c, _) if c.is_whitespace() => {
                    self.bump();
                }
                ('/', Some('/')) => {
                    while self.peek_at(0).is_some_and(|c| c != '\n') {
                        self.bump();
                    }
                }
                ('/', Some('*')) => {
                    self.bump();
                    self.bump();
                    let mut depth = 1;
                    while depth > 0 {
                        match (self.bump()?, self.peek_at(0)) {
                            ('*', Some('/')) => {
                                self.bump();
                                depth -= 1;
                            }
                            ('/', Some('*')) => {
                                self.bump();
                                depth += 1;
                            }
                            _ => {}
                        }
                    }
                }
                (c, _) => return Some(c),
            }
        }
    }

    /// Whether `r` starts a raw string (`r"`, `r#"`, `r##"`...).
    fn raw_start(&self) -> bool {
        let mut n = 1;
        while self.peek_at(n) == Some('#') {
            n += 1;
        }
        self.peek_at(n) == Some('"')
    }

    /// Takes `r###"` and returns the number of hashes.
    fn count_raw_hashes(&mut self) -> usize {
        self.bump();
        let mut hashes = 0;
        while self.peek_at(0) == Some('#') {
            self.bump();
            hashes += 1;
        }
        self.bump();
        hashes
    }

    /// Takes a string body after its opening quote, up to and including the closing quote
    /// (followed by as many hashes as a raw string opened with); escapes are decoded in plain
    /// strings (`raw` is `None`) only.
    fn string_body(&mut self, raw: Option<usize>) -> String {
        let raw_hashes = raw.unwrap_or(0);
        let mut out = String::new();
        while let Some(c) = self.bump() {
            match c {
                '"' if (0..raw_hashes).all(|n| self.peek_at(n) == Some('#')) => {
                    for _ in 0..raw_hashes {
                        self.bump();
                    }
                    return out;
                }
                '\\' if raw.is_none() => match self.bump() {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some('r') => out.push('\r'),
                    Some('0') => out.push('\0'),
                    Some('u') => {
                        let mut hex = String::new();
                        if self.peek_at(0) == Some('{') {
                            self.bump();
                            while let Some(h) = self.bump().filter(|h| *h != '}') {
                                hex.push(h);
                            }
                        }
                        if let Some(ch) =
                            u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32)
                        {
                            out.push(ch);
                        }
                    }
                    Some('\n') => {
                        while self.peek_at(0).is_some_and(char::is_whitespace) {
                            self.bump();
                        }
                    }
                    Some(other) => out.push(other),
                    None => return out,
                },
                c => out.push(c),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = r##"(
    id: "s1", // a comment with "quotes"
    /* block /* nested */ "ignored" */
    requires: ["a", "b"],
    title: (fr: "Il a dit \"oui\""),
    anchors: [(id: "a1", position: (1.0, 2.0, 3.0)), (id: "a2", position: (0.0, 0.0, 0.0))],
    other: r#"raw "text""#,
    again: ["b"],
)"##;

    #[test]
    fn finds_strings_by_key_and_occurrence() {
        let idx = SourceIndex::new(SRC);
        assert_eq!(idx.find(At::str("id", "s1")), Pos { line: 2, column: 9 });
        assert_eq!(
            idx.find(At::str("requires", "b")),
            Pos {
                line: 4,
                column: 21
            }
        );
        assert_eq!(
            idx.find(At::str("again", "b")),
            Pos {
                line: 8,
                column: 13
            }
        );
        assert_eq!(
            idx.find(At::str("fr", "Il a dit \"oui\"")),
            Pos {
                line: 5,
                column: 17
            }
        );
        assert_eq!(
            idx.find(At::str("other", "raw \"text\"")),
            Pos {
                line: 7,
                column: 12
            }
        );
    }

    #[test]
    fn comments_are_not_strings() {
        let idx = SourceIndex::new(SRC);
        assert_eq!(
            idx.find(At::str("id", "quotes")),
            Pos { line: 1, column: 1 }
        );
        assert_eq!(
            idx.find(At::str("requires", "ignored")),
            Pos { line: 1, column: 1 }
        );
    }

    #[test]
    fn field_after_points_at_the_field_of_that_item() {
        let idx = SourceIndex::new(SRC);
        let at = At::FieldAfter {
            key: "id",
            value: "a2",
            then: "position",
        };
        assert_eq!(
            idx.find(at),
            Pos {
                line: 6,
                column: 65
            }
        );
    }

    #[test]
    fn finds_texts_without_audio_and_where_to_insert_it() {
        let src = r#"(
    id: "doc",
    title: (fr: "Été", audio: Some("a.ogg")),
    items: [(id: "x", text: (fr: "Sans voix", pictogram: Some("p.svg"))), (fr: "Deux")],
    nested: (audio: Some("b.ogg"), inner: (fr: "Trois")),
)"#;
        let found = unvoiced_texts(src);
        let texts: Vec<&str> = found.iter().map(|t| t.fr.as_str()).collect();
        assert_eq!(texts, ["Sans voix", "Deux", "Trois"]);
        assert_eq!(
            &src[found[0].insert_at - 11..found[0].insert_at],
            "\"Sans voix\""
        );
        assert_eq!(
            found[2].pos,
            Pos {
                line: 5,
                column: 48
            }
        );
        assert_eq!(document_id(src).as_deref(), Some("doc"));
    }

    #[test]
    fn unterminated_input_does_not_panic() {
        for src in [
            "\"abc",
            "/* never closed",
            "r#\"raw",
            "(a: \"\\u{zz",
            "key:",
        ] {
            let _ = SourceIndex::new(src).find(At::Field("key"));
        }
    }
}
