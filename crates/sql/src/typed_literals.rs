//! Spark SQL's typed numeric literals — `1L` (bigint), `1S` (smallint), `1Y` (tinyint),
//! `1.5D` (double), `1.5F` (float), `1.5BD` (decimal) — and exponent literals (`1.5e3`, a
//! double), which sqlparser reads as a number followed by an alias (`1 AS L`) or as a decimal.
//! They are rewritten in the text as casts before parsing; strings, quoted identifiers and
//! comments are left as they are.

/// `sql` with each typed or exponent literal written as a cast.
pub fn rewrite_typed_literals(sql: &str) -> String {
    let chars: Vec<char> = sql.chars().collect();
    let mut out = String::with_capacity(sql.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\'' | '"' | '`' => {
                let end = closing(&chars, i, c);
                out.extend(&chars[i..end]);
                i = end;
            }
            '-' if chars.get(i + 1) == Some(&'-') => {
                let end = chars[i..]
                    .iter()
                    .position(|&ch| ch == '\n')
                    .map_or(chars.len(), |p| i + p);
                out.extend(&chars[i..end]);
                i = end;
            }
            '/' if chars.get(i + 1) == Some(&'*') => {
                let end = (i + 2..chars.len().saturating_sub(1))
                    .find(|&j| chars[j] == '*' && chars[j + 1] == '/')
                    .map_or(chars.len(), |j| j + 2);
                out.extend(&chars[i..end]);
                i = end;
            }
            _ if c.is_ascii_digit()
                && !continues_word(chars.get(i.wrapping_sub(1)).copied(), i) =>
            {
                let (end, literal) = number(&chars, i);
                out.push_str(&literal);
                i = end;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// Whether the character before a digit makes it part of a word (`t1`, `x_2`) or of a
/// number already read (`.5`).
fn continues_word(previous: Option<char>, at: usize) -> bool {
    at > 0 && previous.is_some_and(|p| p.is_alphanumeric() || p == '_' || p == '.')
}

/// The end of a quoted run starting at `start`; a doubled quote is part of it.
fn closing(chars: &[char], start: usize, quote: char) -> usize {
    let mut j = start + 1;
    while j < chars.len() {
        if chars[j] == '\\' && quote == '\'' {
            j += 2;
            continue;
        }
        if chars[j] == quote {
            if chars.get(j + 1) == Some(&quote) {
                j += 2;
                continue;
            }
            return j + 1;
        }
        j += 1;
    }
    chars.len()
}

/// The number starting at `start` and its rewritten text.
fn number(chars: &[char], start: usize) -> (usize, String) {
    let mut j = start;
    let digits = |j: &mut usize| {
        while *j < chars.len() && chars[*j].is_ascii_digit() {
            *j += 1;
        }
    };
    digits(&mut j);
    if chars.get(j) == Some(&'.') && chars.get(j + 1).is_some_and(|c| c.is_ascii_digit()) {
        j += 1;
        digits(&mut j);
    }
    let mut exponent = false;
    if matches!(chars.get(j), Some('e' | 'E')) {
        let mut k = j + 1;
        if matches!(chars.get(k), Some('+' | '-')) {
            k += 1;
        }
        if chars.get(k).is_some_and(|c| c.is_ascii_digit()) {
            j = k;
            digits(&mut j);
            exponent = true;
        }
    }
    let text: String = chars[start..j].iter().collect();
    let suffix_end = (j..chars.len())
        .find(|&k| !chars[k].is_ascii_alphabetic())
        .unwrap_or(chars.len());
    let suffix: String = chars[j..suffix_end].iter().collect();
    let ends_word = chars
        .get(suffix_end)
        .is_none_or(|c| !(c.is_alphanumeric() || *c == '_'));
    let target = match suffix.to_ascii_uppercase().as_str() {
        "L" if ends_word => Some("BIGINT".to_string()),
        "S" if ends_word => Some("SMALLINT".to_string()),
        "Y" if ends_word => Some("TINYINT".to_string()),
        "D" if ends_word => Some("DOUBLE".to_string()),
        "F" if ends_word => Some("FLOAT".to_string()),
        "BD" if ends_word && !exponent => Some(decimal_type(&text)),
        _ => None,
    };
    match target {
        Some(t) => (suffix_end, format!("CAST({text} AS {t})")),
        None if exponent => (j, format!("CAST({text} AS DOUBLE)")),
        None => (j, text),
    }
}

/// The decimal type of a plain number's digits: `1.50` is `DECIMAL(3,2)`.
fn decimal_type(text: &str) -> String {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let whole = whole.trim_start_matches('0');
    let scale = fraction.len();
    let precision = (whole.len() + scale).max(1).max(scale);
    format!("DECIMAL({precision},{scale})")
}

#[cfg(test)]
mod tests {
    use super::rewrite_typed_literals as rewrite;

    #[test]
    fn typed_literals_become_casts() {
        assert_eq!(
            rewrite("select 1L, 2s, 3Y"),
            "select CAST(1 AS BIGINT), CAST(2 AS SMALLINT), CAST(3 AS TINYINT)"
        );
        assert_eq!(
            rewrite("select 1.5D + 2F"),
            "select CAST(1.5 AS DOUBLE) + CAST(2 AS FLOAT)"
        );
        assert_eq!(
            rewrite("select 1.50BD, 10BD"),
            "select CAST(1.50 AS DECIMAL(3,2)), CAST(10 AS DECIMAL(2,0))"
        );
        assert_eq!(
            rewrite("select 1.5e3, 2E-2"),
            "select CAST(1.5e3 AS DOUBLE), CAST(2E-2 AS DOUBLE)"
        );
    }

    #[test]
    fn strings_names_and_plain_numbers_are_kept() {
        let kept = [
            "select '1L', \"2S\", `3Y` from t1 where x_2 = 10 -- 5L\n",
            "select 1 as l, 12 lim, 1.5 from t /* 2L */",
            "select 'it''s 1L'",
        ];
        for sql in kept {
            assert_eq!(rewrite(sql), sql);
        }
    }
}
