//! A port of python-dotenv's parser (1.2.x, `dotenv/parser.py` and `variables.py`): the
//! backend loads its `.env` with python-dotenv, so t3s3 reads every file exactly as it does:
//! the same keys, values, multi-line quoted values, escapes, comments, `export`, and
//! `${VAR:-default}` interpolation. Pure, no I/O.

use std::collections::BTreeMap;

/// One statement of the file, as python-dotenv's `Binding`, with where it lies in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// `None` for blank lines, comments, and statements that could not be parsed.
    pub key: Option<String>,
    /// `None` for a key without `=` (python-dotenv reads it as unset).
    pub value: Option<String>,
    /// Byte offset where the statement's key starts (after leading white space).
    pub start: usize,
    /// Byte offset after the statement's last character, before its line ending.
    pub end: usize,
    /// Why the statement could not be parsed (python-dotenv skips it with a warning).
    pub error: Option<&'static str>,
    /// The raw text of the value as written (quotes included), for the lint.
    pub raw_value: Option<String>,
}

/// Python's `str.isspace()` (the `\s` of its regular expressions).
fn is_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// `[^\S\r\n]`: white space other than a line break.
fn is_blank(c: char) -> bool {
    is_space(c) && c != '\r' && c != '\n'
}

struct Reader<'a> {
    text: &'a str,
    pos: usize,
}

impl Reader<'_> {
    fn rest(&self) -> &str {
        &self.text[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn skip_while(&mut self, keep: impl Fn(char) -> bool) -> usize {
        let length: usize = self.rest().chars().take_while(|c| keep(*c)).map(char::len_utf8).sum();
        self.pos += length;
        length
    }

    /// `(?:export[^\S\r\n]+)?`
    fn export(&mut self) {
        if let Some(after) = self.rest().strip_prefix("export") {
            let blanks: usize = after.chars().take_while(|c| is_blank(*c)).map(char::len_utf8).sum();
            if blanks > 0 {
                self.pos += "export".len() + blanks;
            }
        }
    }

    /// `'([^']+)'` or `([^=\#\s]+)`; `None` for a comment.
    fn key(&mut self) -> Result<Option<String>, &'static str> {
        match self.peek() {
            Some('#') => Ok(None),
            Some('\'') => {
                let body = &self.rest()[1..];
                let end = body.find('\'').filter(|end| *end > 0).ok_or("a quoted key does not close")?;
                let key = body[..end].to_string();
                self.pos += end + 2;
                Ok(Some(key))
            }
            _ => {
                let start = self.pos;
                let length = self.skip_while(|c| c != '=' && c != '#' && !is_space(c));
                if length == 0 {
                    return Err("a key is expected before the `=`");
                }
                Ok(Some(self.text[start..self.pos].to_string()))
            }
        }
    }

    /// `'((?:\\.|[^'\\])*)'` (or with `"`), across lines: the raw text between the quotes.
    fn quoted(&mut self, quote: char) -> Result<String, &'static str> {
        let mut chars = self.rest().char_indices().skip(1);
        while let Some((at, c)) = chars.next() {
            if c == '\\' {
                if chars.next().is_none() {
                    break;
                }
            } else if c == quote {
                let inner = self.rest()[1..at].to_string();
                self.pos += at + 1;
                return Ok(inner);
            }
        }
        Err(if quote == '"' { "a \" quote never closes" } else { "a ' quote never closes" })
    }

    fn value(&mut self) -> Result<String, &'static str> {
        match self.peek() {
            Some('\'') => Ok(unescape(&self.quoted('\'')?, "\\'")),
            Some('"') => Ok(unescape(&self.quoted('"')?, "\\'\"abfnrtv")),
            None | Some('\n' | '\r') => Ok(String::new()),
            Some(_) => {
                let start = self.pos;
                self.skip_while(|c| c != '\r' && c != '\n');
                Ok(unquoted(&self.text[start..self.pos]))
            }
        }
    }

    /// `(?:[^\S\r\n]*#[^\r\n]*)?`
    fn comment(&mut self) {
        let blanks: usize = self.rest().chars().take_while(|c| is_blank(*c)).map(char::len_utf8).sum();
        if self.rest()[blanks..].starts_with('#') {
            self.pos += blanks;
            self.skip_while(|c| c != '\r' && c != '\n');
        }
    }

    /// `[^\S\r\n]*(?:\r\n|\n|\r|$)`; returns the offset before the line break.
    fn end_of_line(&mut self) -> Result<usize, &'static str> {
        self.skip_while(is_blank);
        let before = self.pos;
        let rest = self.rest();
        let length = if rest.starts_with("\r\n") {
            2
        } else if rest.starts_with('\n') || rest.starts_with('\r') {
            1
        } else if rest.is_empty() {
            0
        } else {
            return Err("there is text after the value (quote values that contain spaces or #)");
        };
        self.pos += length;
        Ok(before)
    }

    fn binding(&mut self) -> Binding {
        self.skip_while(is_space);
        let start = self.pos;
        let mut binding = Binding { key: None, value: None, start, end: start, error: None, raw_value: None };
        if self.pos >= self.text.len() {
            return binding;
        }
        match self.statement(&mut binding) {
            Ok(end) => binding.end = end,
            Err(reason) => {
                // `[^\r\n]*(?:\r|\n|\r\n)?` from where it failed: the rest of that line is skipped.
                self.skip_while(|c| c != '\r' && c != '\n');
                binding.end = self.pos;
                if self.rest().starts_with('\r') || self.rest().starts_with('\n') {
                    self.pos += 1;
                }
                binding.key = None;
                binding.value = None;
                binding.error = Some(reason);
            }
        }
        binding
    }

    fn statement(&mut self, binding: &mut Binding) -> Result<usize, &'static str> {
        self.export();
        binding.key = self.key()?;
        self.skip_while(is_blank);
        if self.peek() == Some('=') {
            self.pos += 1;
            let blanks = self.skip_while(is_blank);
            let value_start = self.pos;
            binding.value = Some(if blanks > 0 && self.peek() == Some('#') { String::new() } else { self.value()? });
            binding.raw_value = Some(self.text[value_start..self.pos].to_string());
        }
        self.comment();
        self.end_of_line()
    }
}

/// Decodes `\` followed by one of `escapes` (`\\` always), as python-dotenv's
/// `decode_escapes` does; any other backslash stays as it is.
fn unescape(raw: &str, escapes: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match chars.peek() {
            Some(&next) if c == '\\' && (next == '\\' || escapes.contains(next)) => {
                chars.next();
                out.push(match next {
                    'a' => '\u{07}',
                    'b' => '\u{08}',
                    'f' => '\u{0c}',
                    'n' => '\n',
                    'r' => '\r',
                    't' => '\t',
                    'v' => '\u{0b}',
                    other => other,
                });
            }
            _ => out.push(c),
        }
    }
    out
}

/// An unquoted value: cut at the first white space followed by `#`, then trailing white space.
fn unquoted(part: &str) -> String {
    let chars: Vec<(usize, char)> = part.char_indices().collect();
    let mut cut = part.len();
    let mut i = 0;
    while i < chars.len() {
        if is_space(chars[i].1) {
            let mut j = i;
            while j < chars.len() && is_space(chars[j].1) {
                j += 1;
            }
            if j < chars.len() && chars[j].1 == '#' {
                cut = chars[i].0;
                break;
            }
            i = j;
        } else {
            i += 1;
        }
    }
    part[..cut].trim_end_matches(is_space).to_string()
}

/// Every statement of `text`, in order. `text` is what Python's text mode reads: line
/// breaks already `\n`, no byte-order mark.
pub fn parse(text: &str) -> Vec<Binding> {
    let mut reader = Reader { text, pos: 0 };
    let mut bindings = Vec::new();
    while reader.pos < text.len() {
        let binding = reader.binding();
        let blank = binding.key.is_none() && binding.error.is_none() && binding.end == binding.start;
        if !blank {
            bindings.push(binding);
        }
    }
    bindings
}

/// `${NAME}` and `${NAME:-default}` replaced from `env`, as python-dotenv's `parse_variables`.
pub fn interpolate(value: &str, env: &dyn Fn(&str) -> Option<Option<String>>) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(at) = rest.find("${") {
        let after = &rest[at + 2..];
        let Some(close) = after.find('}') else { break };
        let inner = &after[..close];
        let (name, default) = match inner.find(':') {
            Some(colon) if inner[colon..].starts_with(":-") => (&inner[..colon], Some(&inner[colon + 2..])),
            Some(_) => {
                // Not a variable here (a `:` not followed by `-`): keep `${` and look further on.
                out.push_str(&rest[..at + 2]);
                rest = after;
                continue;
            }
            None => (inner, None),
        };
        out.push_str(&rest[..at]);
        let resolved = match env(name) {
            Some(value) => value.unwrap_or_default(),
            None => default.unwrap_or_default().to_string(),
        };
        out.push_str(&resolved);
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

/// The file's values as python-dotenv's `dotenv_values` gives them (interpolation on):
/// later definitions win; `${VAR}` looks at the values so far and `environment`, the file
/// first when `override_environment` (as `dotenv_values`), the environment first otherwise
/// (as `load_dotenv`).
pub fn values(
    bindings: &[Binding],
    environment: &BTreeMap<String, String>,
    override_environment: bool,
) -> BTreeMap<String, Option<String>> {
    let mut resolved: BTreeMap<String, Option<String>> = BTreeMap::new();
    for binding in bindings {
        let Some(key) = &binding.key else { continue };
        let value = binding.value.as_ref().map(|value| {
            let lookup = |name: &str| -> Option<Option<String>> {
                let from_file = resolved.get(name).cloned();
                let from_env = environment.get(name).map(|v| Some(v.clone()));
                if override_environment { from_file.or(from_env) } else { from_env.or(from_file) }
            };
            interpolate(value, &lookup)
        });
        resolved.insert(key.clone(), value);
    }
    resolved
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> BTreeMap<String, Option<String>> {
        values(&parse(text), &BTreeMap::new(), true)
    }

    fn one(text: &str, key: &str) -> Option<String> {
        read(text).get(key).cloned().flatten()
    }

    #[test]
    fn reads_values_as_python_dotenv_does() {
        assert_eq!(one("A=1", "A").as_deref(), Some("1"));
        assert_eq!(one("export A=1\n", "A").as_deref(), Some("1"));
        assert_eq!(one("A = spaced  # note\n", "A").as_deref(), Some("spaced"));
        assert_eq!(one("A=x#y\n", "A").as_deref(), Some("x#y"));
        assert_eq!(one("A= #c\n", "A").as_deref(), Some(""));
        assert_eq!(one("A='it\\'s'\n", "A").as_deref(), Some("it's"));
        assert_eq!(one("A=\"a\\nb\"\n", "A").as_deref(), Some("a\nb"));
        assert_eq!(one("A='a\\nb'\n", "A").as_deref(), Some("a\\nb"));
        assert_eq!(one("'Q K'=v\n", "Q K").as_deref(), Some("v"));
        assert_eq!(read("A\n").get("A"), Some(&None));
    }

    #[test]
    fn a_quoted_value_spans_lines() {
        let text = "NOTE=\"first line\nAWS_REGION=us-east-1\nlast line\"\nDEBUG=1\n";
        let values = read(text);
        assert_eq!(values["NOTE"].as_deref(), Some("first line\nAWS_REGION=us-east-1\nlast line"));
        assert_eq!(values.get("AWS_REGION"), None);
        assert_eq!(values["DEBUG"].as_deref(), Some("1"));
    }

    #[test]
    fn unparseable_statements_are_skipped_to_the_end_of_their_line() {
        let keys = |text: &str| -> Vec<(Option<String>, bool)> {
            parse(text).iter().map(|b| (b.key.clone(), b.error.is_some())).collect()
        };
        assert_eq!(keys("A=\"1\nB=2\n"), vec![(None, true), (Some("B".into()), false)]);
        assert_eq!(keys("C=\"x\" junk\nD=4\n"), vec![(None, true), (Some("D".into()), false)]);
        // The quote opened on line 1 closes on line 3: python-dotenv reads the same.
        assert_eq!(keys("A=\"1\nB=2\nC=\"x\" junk\nD=4\n"), vec![(None, true), (Some("D".into()), false)]);
    }

    #[test]
    fn interpolates_like_python_dotenv() {
        let values = read("A=1\nB=${A}-${MISSING:-d}-${NOPE}\nC='${A}'\nD=${A:x}\n");
        assert_eq!(values["B"].as_deref(), Some("1-d-"));
        assert_eq!(values["C"].as_deref(), Some("1"));
        assert_eq!(values["D"].as_deref(), Some("${A:x}"));
    }
}
