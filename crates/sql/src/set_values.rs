//! Spark's `SET key = value` takes the value as raw text to the end of the statement
//! (`SET spark.sql.session.timeZone = America/Los_Angeles`); DataFusion's parser wants an
//! expression there. A raw value that is not already a quoted string, a number or a word is
//! quoted in the text before parsing.

/// `sql` with the raw values of its `SET key = value` statements quoted.
pub fn quote_set_values(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    for (i, statement) in split_statements(sql).into_iter().enumerate() {
        if i > 0 {
            out.push(';');
        }
        out.push_str(&quoted(statement));
    }
    out
}

/// The statements of a script: split at `;` outside quotes and comments.
fn split_statements(sql: &str) -> Vec<&str> {
    let bytes = sql.as_bytes();
    let mut parts = Vec::new();
    let (mut start, mut i) = (0, 0);
    while i < bytes.len() {
        match bytes[i] {
            quote @ (b'\'' | b'"' | b'`') => {
                i += 1;
                while i < bytes.len() && bytes[i] != quote {
                    if bytes[i] == b'\\' && quote == b'\'' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b';' => {
                parts.push(&sql[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    parts.push(&sql[start.min(sql.len())..]);
    parts
}

fn quoted(statement: &str) -> String {
    let trimmed = statement.trim_start();
    let is_set = trimmed.get(..4).is_some_and(|head| {
        head.eq_ignore_ascii_case("set ") || head.eq_ignore_ascii_case("set\t")
    });
    let Some(equals) = statement.find('=').filter(|_| is_set) else {
        return statement.to_string();
    };
    let value = statement[equals + 1..].trim();
    let plain = value.is_empty()
        || value.starts_with(['\'', '"'])
        || value.parse::<f64>().is_ok()
        || value.chars().all(|c| c.is_alphanumeric() || c == '_');
    if plain {
        return statement.to_string();
    }
    format!("{}= '{}'", &statement[..equals], value.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_set_values_are_quoted() {
        assert_eq!(
            quote_set_values("SET spark.sql.session.timeZone = America/Los_Angeles; select 1"),
            "SET spark.sql.session.timeZone = 'America/Los_Angeles'; select 1"
        );
        for kept in [
            "set a = 10",
            "set a = 'x/y'",
            "set a = true",
            "select '=' as x; select 2",
            "select a/b from t where c = d/e",
        ] {
            assert_eq!(quote_set_values(kept), kept);
        }
        assert_eq!(quote_set_values("set a=it's/x"), "set a= 'it''s/x'");
    }
}
