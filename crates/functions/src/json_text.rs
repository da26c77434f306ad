//! JSON text read as Spark's JSON functions read it: Jackson's parser with the leniencies
//! Spark's options switch on (`allowUnquotedFieldNames`, `allowSingleQuotes`, `allowComments`,
//! `allowNumericLeadingZeros`, `allowNonNumericNumbers`, `allowBackslashEscapingAnyCharacter`).
//! Numbers keep their text, so a reader can make them decimals, longs or doubles as the target
//! type asks, and objects keep their keys in document order.

/// A parsed JSON value. Numbers are kept as written (`NaN` and `Infinity` too, where allowed).
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

/// Spark's JSON parsing options, with Spark's defaults.
#[derive(Debug, Clone)]
pub struct JsonOptions {
    pub allow_unquoted_field_names: bool,
    pub allow_single_quotes: bool,
    pub allow_comments: bool,
    pub allow_numeric_leading_zeros: bool,
    pub allow_non_numeric_numbers: bool,
    pub allow_backslash_escaping_any_character: bool,
    pub allow_unquoted_control_chars: bool,
}

impl Default for JsonOptions {
    fn default() -> JsonOptions {
        JsonOptions {
            allow_unquoted_field_names: false,
            allow_single_quotes: true,
            allow_comments: false,
            allow_numeric_leading_zeros: false,
            allow_non_numeric_numbers: true,
            allow_backslash_escaping_any_character: false,
            allow_unquoted_control_chars: false,
        }
    }
}

impl JsonOptions {
    /// The options named in `pairs` (Spark's option names, any case; values `true`/`false`);
    /// options this reader does not use are ignored, as Spark ignores unknown options.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> JsonOptions {
        let mut options = JsonOptions::default();
        for (key, value) in pairs {
            let Ok(on) = value.trim().to_ascii_lowercase().parse::<bool>() else {
                continue;
            };
            let slot = match key.to_ascii_lowercase().as_str() {
                "allowunquotedfieldnames" => &mut options.allow_unquoted_field_names,
                "allowsinglequotes" => &mut options.allow_single_quotes,
                "allowcomments" => &mut options.allow_comments,
                "allownumericleadingzeros" => &mut options.allow_numeric_leading_zeros,
                "allownonnumericnumbers" => &mut options.allow_non_numeric_numbers,
                "allowbackslashescapinganycharacter" => {
                    &mut options.allow_backslash_escaping_any_character
                }
                "allowunquotedcontrolchars" => &mut options.allow_unquoted_control_chars,
                _ => continue,
            };
            *slot = on;
        }
        options
    }
}

/// Parses one JSON document; `None` when it is not JSON under `options` (trailing text after
/// the value included, as Spark treats such a record as malformed).
pub fn parse(text: &str, options: &JsonOptions) -> Option<Json> {
    let mut reader = Reader {
        text: text.as_bytes(),
        at: 0,
        options,
    };
    let value = reader.value(0)?;
    reader.skip_space()?;
    (reader.at == reader.text.len()).then_some(value)
}

/// Deeper documents are refused rather than risking the stack.
const MAX_DEPTH: usize = 1000;

struct Reader<'a> {
    text: &'a [u8],
    at: usize,
    options: &'a JsonOptions,
}

impl Reader<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    /// Skips white space and, where allowed, `/* */`, `//` and `#` comments.
    fn skip_space(&mut self) -> Option<()> {
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\n' | b'\r') => self.at += 1,
                Some(b'/') if self.options.allow_comments => match self.text.get(self.at + 1) {
                    Some(b'/') => self.skip_line(),
                    Some(b'*') => {
                        let rest = &self.text[self.at + 2..];
                        let end = rest.windows(2).position(|w| w == b"*/")?;
                        self.at += end + 4;
                    }
                    _ => return None,
                },
                Some(b'#') if self.options.allow_comments => self.skip_line(),
                _ => return Some(()),
            }
        }
    }

    fn skip_line(&mut self) {
        while let Some(byte) = self.peek() {
            self.at += 1;
            if byte == b'\n' {
                break;
            }
        }
    }

    fn eat(&mut self, byte: u8) -> Option<bool> {
        self.skip_space()?;
        if self.peek() == Some(byte) {
            self.at += 1;
            Some(true)
        } else {
            Some(false)
        }
    }

    fn value(&mut self, depth: usize) -> Option<Json> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.skip_space()?;
        match self.peek()? {
            b'{' => {
                self.at += 1;
                let mut fields = Vec::new();
                if self.eat(b'}')? {
                    return Some(Json::Object(fields));
                }
                loop {
                    self.skip_space()?;
                    let key = self.field_name()?;
                    if !self.eat(b':')? {
                        return None;
                    }
                    fields.push((key, self.value(depth + 1)?));
                    if self.eat(b',')? {
                        continue;
                    }
                    return self.eat(b'}')?.then_some(Json::Object(fields));
                }
            }
            b'[' => {
                self.at += 1;
                let mut items = Vec::new();
                if self.eat(b']')? {
                    return Some(Json::Array(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    if self.eat(b',')? {
                        continue;
                    }
                    return self.eat(b']')?.then_some(Json::Array(items));
                }
            }
            b'"' => self.string(b'"').map(Json::String),
            b'\'' if self.options.allow_single_quotes => self.string(b'\'').map(Json::String),
            b't' => self.word("true").then_some(Json::Bool(true)),
            b'f' => self.word("false").then_some(Json::Bool(false)),
            b'n' => self.word("null").then_some(Json::Null),
            b'N' if self.options.allow_non_numeric_numbers => {
                self.word("NaN").then(|| Json::Number("NaN".into()))
            }
            b'I' if self.options.allow_non_numeric_numbers => self
                .word("Infinity")
                .then(|| Json::Number("Infinity".into())),
            _ => self.number().map(Json::Number),
        }
    }

    fn word(&mut self, word: &str) -> bool {
        let end = self.at + word.len();
        let matches = self.text.get(self.at..end) == Some(word.as_bytes())
            && !self
                .text
                .get(end)
                .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_');
        if matches {
            self.at = end;
        }
        matches
    }

    fn field_name(&mut self) -> Option<String> {
        match self.peek()? {
            b'"' => self.string(b'"'),
            b'\'' if self.options.allow_single_quotes => self.string(b'\''),
            byte if self.options.allow_unquoted_field_names
                && (byte.is_ascii_alphabetic() || byte == b'_' || byte == b'$') =>
            {
                let start = self.at;
                while self
                    .peek()
                    .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$')
                {
                    self.at += 1;
                }
                Some(String::from_utf8_lossy(&self.text[start..self.at]).into_owned())
            }
            _ => None,
        }
    }

    fn string(&mut self, quote: u8) -> Option<String> {
        self.at += 1;
        let mut out: Vec<u8> = Vec::new();
        loop {
            let byte = self.peek()?;
            self.at += 1;
            match byte {
                b if b == quote => break,
                b'\\' => {
                    let escaped = self.peek()?;
                    self.at += 1;
                    match escaped {
                        b'"' | b'\\' | b'/' => out.push(escaped),
                        b'b' => out.push(0x08),
                        b'f' => out.push(0x0c),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'u' => {
                            let character = self.unicode_escape()?;
                            let mut buffer = [0u8; 4];
                            out.extend_from_slice(character.encode_utf8(&mut buffer).as_bytes());
                        }
                        b'\'' if quote == b'\'' => out.push(escaped),
                        other if self.options.allow_backslash_escaping_any_character => {
                            out.push(other)
                        }
                        _ => return None,
                    }
                }
                b if b < 0x20 && !self.options.allow_unquoted_control_chars => return None,
                b => out.push(b),
            }
        }
        String::from_utf8(out).ok()
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = std::str::from_utf8(self.text.get(self.at..self.at + 4)?).ok()?;
        let value = u32::from_str_radix(digits, 16).ok()?;
        self.at += 4;
        Some(value)
    }

    /// `\uXXXX`, joining a surrogate pair into one character.
    fn unicode_escape(&mut self) -> Option<char> {
        let first = self.hex4()?;
        if (0xD800..0xDC00).contains(&first) && self.text.get(self.at..self.at + 2) == Some(b"\\u")
        {
            let save = self.at;
            self.at += 2;
            let second = self.hex4()?;
            if (0xDC00..0xE000).contains(&second) {
                return char::from_u32(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00));
            }
            self.at = save;
        }
        char::from_u32(first).or(Some('\u{FFFD}'))
    }

    fn number(&mut self) -> Option<String> {
        let start = self.at;
        if matches!(self.peek(), Some(b'-' | b'+')) {
            let sign_allowed = self.peek() == Some(b'-') || self.options.allow_non_numeric_numbers;
            if !sign_allowed {
                return None;
            }
            self.at += 1;
            if self.options.allow_non_numeric_numbers && self.word("Infinity") {
                let negative = self.text[start] == b'-';
                return Some(if negative { "-Infinity" } else { "Infinity" }.into());
            }
            if self.text[start] == b'+' {
                return None;
            }
        }
        let digits_start = self.at;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.at += 1;
        }
        let integer_digits = self.at - digits_start;
        if integer_digits == 0
            || (integer_digits > 1
                && self.text[digits_start] == b'0'
                && !self.options.allow_numeric_leading_zeros)
        {
            return None;
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            let fraction_start = self.at;
            while self.peek().is_some_and(|b| b.is_ascii_digit()) {
                self.at += 1;
            }
            if self.at == fraction_start {
                return None;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.at += 1;
            if matches!(self.peek(), Some(b'-' | b'+')) {
                self.at += 1;
            }
            let exponent_start = self.at;
            while self.peek().is_some_and(|b| b.is_ascii_digit()) {
                self.at += 1;
            }
            if self.at == exponent_start {
                return None;
            }
        }
        let text = std::str::from_utf8(&self.text[start..self.at]).ok()?;
        Some(strip_leading_zeros(text))
    }
}

/// `007` as `7` (only reachable with `allowNumericLeadingZeros`), keeping a sign and `0.5`.
fn strip_leading_zeros(text: &str) -> String {
    let (sign, digits) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text),
    };
    let trimmed = digits.trim_start_matches('0');
    if trimmed.is_empty() || !trimmed.starts_with(|c: char| c.is_ascii_digit()) {
        format!("{sign}0{trimmed}")
    } else {
        format!("{sign}{trimmed}")
    }
}

/// Writes `text` as a JSON string literal, escaping as Jackson does.
pub fn write_string(out: &mut String, text: &str) {
    out.push('"');
    for character in text.chars() {
        match character {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

impl Json {
    /// The value written back as compact JSON text, as Spark copies a nested value into a
    /// string field.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Number(n) => out.push_str(n),
            Json::String(s) => write_string(out, s),
            Json::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Json::Object(fields) => {
                out.push('{');
                for (i, (key, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_string(out, key);
                    out.push(':');
                    value.write(out);
                }
                out.push('}');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strict(text: &str) -> Option<Json> {
        parse(text, &JsonOptions::default())
    }

    #[test]
    fn documents_parse_with_numbers_kept_as_written() {
        let parsed = strict(r#" {"a": 1.50, "b": [true, null, "x\u00e9"], "c": {}} "#).unwrap();
        assert_eq!(
            parsed,
            Json::Object(vec![
                ("a".into(), Json::Number("1.50".into())),
                (
                    "b".into(),
                    Json::Array(vec![
                        Json::Bool(true),
                        Json::Null,
                        Json::String("xé".into())
                    ])
                ),
                ("c".into(), Json::Object(vec![])),
            ])
        );
        assert_eq!(
            parsed.to_text(),
            r#"{"a":1.50,"b":[true,null,"xé"],"c":{}}"#
        );
    }

    #[test]
    fn malformed_text_is_refused() {
        for text in [
            "",
            "{",
            "{\"a\" 1}",
            "[1,]",
            "01",
            "1.",
            "{a:1}",
            "tru",
            "1 2",
            "\"\\q\"",
        ] {
            assert_eq!(strict(text), None, "{text}");
        }
    }

    #[test]
    fn options_switch_on_jacksons_leniencies() {
        let lenient = JsonOptions::from_pairs([
            ("allowUnquotedFieldNames", "true"),
            ("allowNumericLeadingZeros", "true"),
            ("allowComments", "true"),
        ]);
        assert_eq!(
            parse("{a: 007 /* c */}", &lenient),
            Some(Json::Object(vec![("a".into(), Json::Number("7".into()))]))
        );
        assert_eq!(
            strict("['x', NaN, -Infinity]"),
            Some(Json::Array(vec![
                Json::String("x".into()),
                Json::Number("NaN".into()),
                Json::Number("-Infinity".into()),
            ]))
        );
        let no_single = JsonOptions::from_pairs([("allowSingleQuotes", "false")]);
        assert_eq!(parse("'x'", &no_single), None);
    }

    #[test]
    fn surrogate_pairs_join_and_strings_escape_back() {
        assert_eq!(strict(r#""\ud83d\ude00""#), Some(Json::String("😀".into())));
        let mut out = String::new();
        write_string(&mut out, "a\"b\\c\n\u{1}");
        assert_eq!(out, r#""a\"b\\c\n\u0001""#);
    }
}
