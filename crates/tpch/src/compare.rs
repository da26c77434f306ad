//! Result comparison with numeric tolerance: engines legitimately differ in the last digits of
//! averages and ratios (decimal scale, float summation order), never in anything else.

use std::cmp::Ordering;

/// Relative difference allowed between two numbers that should be equal.
const RELATIVE_TOLERANCE: f64 = 1e-6;
/// Absolute difference allowed near zero.
const ABSOLUTE_TOLERANCE: f64 = 1e-9;

/// Whether the last statement of `sql` fixes the order of its rows.
pub fn query_is_ordered(sql: &str) -> bool {
    let last = sql
        .split(';')
        .map(str::trim)
        .rfind(|s| s.to_ascii_lowercase().contains("select"))
        .unwrap_or("");
    last.to_ascii_lowercase().contains("order by")
}

/// Compares two CSV results (with header rows). Column names must match exactly, except for
/// case; cells match when equal as text or, when both are numbers, within tolerance. Unordered
/// results are compared as multisets of rows.
pub fn compare_results(expected: &str, actual: &str, ordered: bool) -> Result<(), String> {
    let (expected_header, mut expected_rows) = parse(expected, "expected")?;
    let (actual_header, mut actual_rows) = parse(actual, "actual")?;
    let normalized = |h: &[String]| h.iter().map(|c| column_name(c)).collect::<Vec<_>>();
    if normalized(&expected_header) != normalized(&actual_header) {
        return Err(format!(
            "columns differ: expected {expected_header:?}, got {actual_header:?}"
        ));
    }
    if expected_rows.len() != actual_rows.len() {
        return Err(format!(
            "row counts differ: expected {}, got {}",
            expected_rows.len(),
            actual_rows.len()
        ));
    }
    if !ordered {
        expected_rows.sort_by(|a, b| compare_rows(a, b));
        actual_rows.sort_by(|a, b| compare_rows(a, b));
    }
    for (index, (want, got)) in expected_rows.iter().zip(&actual_rows).enumerate() {
        for (column, (w, g)) in want.iter().zip(got).enumerate() {
            if !cells_match(w, g) {
                return Err(format!(
                    "row {} column `{}`: expected `{w}`, got `{g}`\n  expected row: {want:?}\n  actual row:   {got:?}",
                    index + 1,
                    expected_header[column]
                ));
            }
        }
    }
    Ok(())
}

/// A column name without case or table qualifiers: engines name an unaliased expression
/// differently (`sum(lineitem.l_quantity)` against `sum(l_quantity)`).
fn column_name(name: &str) -> String {
    let mut out = String::new();
    let mut word = String::new();
    for c in name.chars() {
        if c.is_alphanumeric() || c == '_' {
            word.push(c.to_ascii_lowercase());
        } else {
            // A word followed by a dot is a qualifier.
            if c != '.' {
                out.push_str(&word);
                out.push(c);
            }
            word.clear();
        }
    }
    out + &word
}

fn parse(text: &str, which: &str) -> Result<(Vec<String>, Vec<Vec<String>>), String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes());
    let header = reader
        .headers()
        .map_err(|e| format!("{which} result is not CSV: {e}"))?
        .iter()
        .map(str::to_string)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.map(|r| r.iter().map(str::to_string).collect()))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{which} result is not CSV: {e}"))?;
    Ok((header, rows))
}

fn cells_match(expected: &str, actual: &str) -> bool {
    if expected == actual {
        return true;
    }
    match (expected.parse::<f64>(), actual.parse::<f64>()) {
        (Ok(a), Ok(b)) => {
            let diff = (a - b).abs();
            diff <= ABSOLUTE_TOLERANCE
                || diff <= RELATIVE_TOLERANCE * a.abs().max(b.abs())
                || diff <= rounding_tolerance(expected, actual)
        }
        _ => false,
    }
}

/// Just under one unit in the last place of the less precise of two decimals: a result carried to fewer
/// digits (the `avg` of a DECIMAL(15,2) is a DECIMAL(19,6), which DataFusion truncates where
/// DuckDB keeps a double) still matches, one that differs in a printed digit by more does not.
fn rounding_tolerance(expected: &str, actual: &str) -> f64 {
    let places = |s: &str| s.split_once('.').map(|(_, f)| f.len());
    match (places(expected), places(actual)) {
        (Some(p), Some(q)) => 10f64.powi(-(p.min(q) as i32)) * 0.999,
        _ => 0.0,
    }
}

/// Orders rows with numbers compared as numbers, so that `0.5` and `0.500000` sort alike.
fn compare_rows(a: &[String], b: &[String]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let ordering = match (x.parse::<f64>(), y.parse::<f64>()) {
            (Ok(p), Ok(q)) => p.total_cmp(&q),
            _ => x.cmp(y),
        };
        if ordering != Ordering::Equal {
            return ordering;
        }
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_match_within_tolerance_only() {
        assert!(compare_results("a,b\nx,0.05\n", "a,b\nx,0.050000\n", true).is_ok());
        assert!(compare_results("a\n1234567.891\n", "a\n1234567.8910004\n", true).is_ok());
        assert!(compare_results("a\n0.05014459706\n", "a\n0.050144\n", true).is_ok());
        assert!(compare_results("a\n0.05014459706\n", "a\n0.050146\n", true).is_err());
        assert!(compare_results("a\n0.05014459706\n", "a\n0.050143\n", true).is_err());
        assert!(compare_results("a\n147790\n", "a\n147791\n", true).is_err());
        let err = compare_results("a\n100.00\n", "a\n100.01\n", true).unwrap_err();
        assert!(err.contains("expected `100.00`, got `100.01`"), "{err}");
    }

    #[test]
    fn unordered_results_ignore_row_order_but_not_content() {
        assert!(compare_results("k,v\na,1\nb,2\n", "k,v\nb,2.0\na,1\n", false).is_ok());
        assert!(compare_results("k,v\na,1\nb,2\n", "k,v\nb,2\na,1\n", true).is_err());
        assert!(compare_results("k,v\na,1\n", "k,v\na,1\na,1\n", false).is_err());
    }

    #[test]
    fn headers_and_text_must_match() {
        assert!(compare_results("a\nx\n", "b\nx\n", true).is_err());
        assert!(compare_results("\"sum(l_q)\"\n1\n", "\"SUM(lineitem.l_q)\"\n1\n", true).is_ok());
        assert!(compare_results("a\n\"x, y\"\n", "a\n\"x, y\"\n", true).is_ok());
        assert!(compare_results("a\nx\n", "a\ny\n", true).is_err());
    }

    #[test]
    fn order_detection_looks_at_the_final_query() {
        assert!(query_is_ordered("select 1 order by 1;"));
        assert!(!query_is_ordered("select sum(x) from t;"));
        assert!(query_is_ordered(
            "create view v as select 1; select * from v order by 1; drop view v;"
        ));
    }
}
