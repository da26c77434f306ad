//! YAML for people and for every Kubernetes tool. Kubernetes' own YAML readers follow YAML 1.1,
//! where an unquoted `yes`, `on` or `0777` is not a string, so a generic YAML 1.2 emitter can
//! hand them an annotation `yes` that they read as `true`. This emitter writes block-style
//! YAML and quotes every string that is not unmistakably a string in both versions.

use serde_json::Value;

/// Objects as a multi-document YAML stream, as `kubectl apply -f` reads.
pub fn to_yaml_documents(objects: &[Value]) -> String {
    let mut out = String::new();
    for object in objects {
        out.push_str("---\n");
        emit_block(object, 0, &mut out);
    }
    out
}

fn indent(level: usize, out: &mut String) {
    for _ in 0..level {
        out.push_str("  ");
    }
}

/// Writes a mapping or sequence at `level`, or a scalar followed by a newline.
fn emit_block(value: &Value, level: usize, out: &mut String) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, item) in map {
                indent(level, out);
                out.push_str(&scalar_string(key, level));
                out.push(':');
                emit_after_key(item, level, out);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for item in items {
                indent(level, out);
                out.push('-');
                match item {
                    Value::Object(map) if !map.is_empty() => {
                        // The first entry shares the dash's line; the rest align with it.
                        let mut first = true;
                        for (key, inner) in map {
                            if first {
                                out.push(' ');
                                first = false;
                            } else {
                                indent(level + 1, out);
                            }
                            out.push_str(&scalar_string(key, level + 1));
                            out.push(':');
                            emit_after_key(inner, level + 1, out);
                        }
                    }
                    other => emit_after_key(other, level, out),
                }
            }
        }
        other => {
            out.push_str(&inline(other, level));
            out.push('\n');
        }
    }
}

/// After `key:` (or `-`): nested blocks go on the next lines, scalars on the same one.
fn emit_after_key(value: &Value, level: usize, out: &mut String) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            emit_block(value, level + 1, out);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            emit_block(value, level + 1, out);
        }
        other => {
            out.push(' ');
            out.push_str(&inline(other, level));
            out.push('\n');
        }
    }
}

fn inline(value: &Value, level: usize) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => scalar_string(s, level),
        Value::Array(_) => "[]".into(),
        Value::Object(_) => "{}".into(),
    }
}

/// A string scalar: plain when that is safe, a literal block for multi-line text, otherwise
/// double-quoted (JSON's escaping is valid YAML).
fn scalar_string(text: &str, level: usize) -> String {
    if is_plain_safe(text) {
        return text.to_string();
    }
    if let Some(block) = literal_block(text, level) {
        return block;
    }
    serde_json::to_string(text).unwrap_or_else(|_| format!("{text:?}"))
}

fn is_plain_safe(text: &str) -> bool {
    const YAML_11_WORDS: &[&str] = &[
        "y", "yes", "n", "no", "true", "false", "on", "off", "null", "~",
    ];
    let mut chars = text.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    (first.is_ascii_alphabetic() || first == '_' || first == '/')
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '-'))
        && !YAML_11_WORDS.contains(&text.to_ascii_lowercase().as_str())
}

/// `|` or `|-` block for multi-line text whose lines need no escaping.
fn literal_block(text: &str, level: usize) -> Option<String> {
    if !text.contains('\n')
        || text.ends_with("\n\n")
        || text.starts_with([' ', '\n'])
        || text
            .chars()
            .any(|c| (c.is_control() && c != '\n') || c == '\u{feff}')
        || text.lines().any(|l| l.ends_with(' '))
    {
        return None;
    }
    let (header, body) = match text.strip_suffix('\n') {
        Some(body) => ("|", body),
        None => ("|-", text),
    };
    let mut out = String::from(header);
    for line in body.split('\n') {
        out.push('\n');
        if !line.is_empty() {
            indent(level + 1, &mut out);
            out.push_str(line);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whatever is written reads back as the same value, and words YAML 1.1 would turn into
    /// booleans or numbers stay strings.
    #[test]
    fn round_trips_and_quotes_what_yaml_11_would_misread() {
        let value = serde_json::json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"annotations": {"a": "yes", "b": "on", "c": "0777", "d": "1.5", "e": "", "f": "x: y"}},
            "data": {"query.sql": "select 1\n  from t;\n", "no-newline": "a\nb", "spaces": "a \nb\n"},
            "list": [{"name": "x", "value": 1}, "plain", [], {}, true, null],
        });
        let yaml = to_yaml_documents(std::slice::from_ref(&value));
        for quoted in [
            "\"yes\"", "\"on\"", "\"0777\"", "\"1.5\"", "\"\"", "\"x: y\"",
        ] {
            assert!(yaml.contains(quoted), "{quoted} not quoted in:\n{yaml}");
        }
        assert!(
            yaml.contains("query.sql: |\n    select 1\n      from t;\n"),
            "{yaml}"
        );
        let back: Value = serde_yaml_ng::from_str(yaml.trim_start_matches("---\n")).unwrap();
        assert_eq!(back, value, "\n{yaml}");
    }
}
