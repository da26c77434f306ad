//! Spark's string functions that neither DataFusion nor `datafusion-spark` has: `mask`
//! (character classes replaced), `conv` (a number's text from one base to another, as
//! Spark's `NumberConverter`) and `format_number` (grouped thousands, a fixed number of
//! decimals rounded half-even as Java's `DecimalFormat` rounds).

use std::sync::Arc;

use arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::logical_expr::ScalarUDF;

use crate::row_function::{row_function, row_function_seeing_nulls};

pub fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        row_function_seeing_nulls("mask", &[1, 2, 3, 4, 5], text_result, mask),
        row_function("conv", &[3], text_result, conv),
        row_function("format_number", &[2], text_result, format_number),
    ]
}

fn text_result(name: &str, types: &[DataType]) -> Result<DataType> {
    match types.first() {
        Some(t) if is_text(t) || t.is_numeric() || t == &DataType::Null => Ok(DataType::Utf8),
        Some(t) => plan_err!(
            "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] `{name}` takes a string or a number, not {t}"
        ),
        None => plan_err!("`{name}` takes at least one argument"),
    }
}

fn is_text(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

fn text(value: &ScalarValue) -> Result<Option<String>> {
    if value.is_null() {
        return Ok(None);
    }
    match value.cast_to(&DataType::Utf8)? {
        ScalarValue::Utf8(s) => Ok(s),
        _ => Ok(None),
    }
}

fn integer(value: &ScalarValue) -> Result<Option<i64>> {
    match value.cast_to(&DataType::Int64)? {
        ScalarValue::Int64(v) => Ok(v),
        _ => Ok(None),
    }
}

/// `mask(s [, upper [, lower [, digit [, other]]]])`: upper-case letters become `X`,
/// lower-case `x`, digits `n`; a null replacement keeps that class as it is (other
/// characters are kept unless `other` is given).
fn mask(name: &str, args: &[ScalarValue]) -> Result<ScalarValue> {
    let Some(input) = text(&args[0])? else {
        return Ok(ScalarValue::Utf8(None));
    };
    let defaults = [Some('X'), Some('x'), Some('n'), None];
    let mut replacements = defaults;
    for (i, slot) in replacements.iter_mut().enumerate() {
        if let Some(arg) = args.get(i + 1) {
            *slot = match text(arg)? {
                None => None,
                Some(s) => {
                    let mut chars = s.chars();
                    match (chars.next(), chars.next()) {
                        (Some(c), None) => Some(c),
                        _ => {
                            return plan_err!(
                                "[INVALID_PARAMETER_VALUE.MASK_CHAR] the replacement characters of `{name}` must be single characters, not '{s}'"
                            );
                        }
                    }
                }
            };
        }
    }
    let [upper, lower, digit, other] = replacements;
    let masked: String = input
        .chars()
        .map(|c| {
            let replacement = if c.is_uppercase() {
                upper
            } else if c.is_lowercase() {
                lower
            } else if c.is_ascii_digit() {
                digit
            } else {
                other
            };
            replacement.unwrap_or(c)
        })
        .collect();
    Ok(ScalarValue::Utf8(Some(masked)))
}

/// `conv(num, fromBase, toBase)`: the longest prefix of `num` that is a number in
/// `fromBase` (an optional `-`, then digits), as an unsigned 64-bit value, written in
/// `toBase`; a negative `toBase` writes it signed. Bases are 2 to 36 in magnitude, else NULL;
/// a value past 64 bits is all ones, as on Spark without ANSI mode.
fn conv(_name: &str, args: &[ScalarValue]) -> Result<ScalarValue> {
    let (Some(num), Some(from), Some(to)) =
        (text(&args[0])?, integer(&args[1])?, integer(&args[2])?)
    else {
        return Ok(ScalarValue::Utf8(None));
    };
    if !(2..=36).contains(&from) || !(2..=36).contains(&to.abs()) {
        return Ok(ScalarValue::Utf8(None));
    }
    let (negative, digits) = match num.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, num.as_str()),
    };
    let mut value: u64 = 0;
    let mut overflowed = false;
    let mut any = false;
    for c in digits.chars() {
        let Some(d) = c.to_digit(from as u32) else {
            break;
        };
        any = true;
        match value
            .checked_mul(from as u64)
            .and_then(|v| v.checked_add(u64::from(d)))
        {
            Some(v) => value = v,
            None => {
                overflowed = true;
                break;
            }
        }
    }
    if !any {
        return Ok(ScalarValue::Utf8(Some("0".to_string())));
    }
    if overflowed {
        value = u64::MAX;
    }
    if negative {
        value = value.wrapping_neg();
    }
    let (sign, magnitude) = if to < 0 && (value as i64) < 0 {
        ("-", (value as i64).unsigned_abs())
    } else {
        ("", value)
    };
    Ok(ScalarValue::Utf8(Some(format!(
        "{sign}{}",
        in_base(magnitude, to.unsigned_abs() as u32)
    ))))
}

fn in_base(mut value: u64, base: u32) -> String {
    if value == 0 {
        return "0".to_string();
    }
    let mut digits = Vec::new();
    while value > 0 {
        let d = (value % u64::from(base)) as u32;
        digits.push(
            std::char::from_digit(d, base)
                .unwrap_or('0')
                .to_ascii_uppercase(),
        );
        value /= u64::from(base);
    }
    digits.iter().rev().collect()
}

/// `format_number(x, d)`: `x` with `,` between thousands and `d` decimals, rounded
/// half-even; NULL for a negative `d`.
fn format_number(name: &str, args: &[ScalarValue]) -> Result<ScalarValue> {
    let Some(decimals) = integer(&args[1])? else {
        return plan_err!("the second argument of `{name}` must be an integer");
    };
    if decimals < 0 {
        return Ok(ScalarValue::Utf8(None));
    }
    let digits = match &args[0] {
        ScalarValue::Float32(Some(v)) if !v.is_finite() => return Ok(non_finite(f64::from(*v))),
        ScalarValue::Float64(Some(v)) if !v.is_finite() => return Ok(non_finite(*v)),
        // The shortest text that reads back as the float, as Java's formatter starts from.
        ScalarValue::Float32(Some(v)) => format!("{v}"),
        ScalarValue::Float64(Some(v)) => format!("{v}"),
        other => match text(other)? {
            Some(t) => t,
            None => return Ok(ScalarValue::Utf8(None)),
        },
    };
    let Some(formatted) = group_and_round(&digits, decimals as usize) else {
        return plan_err!("`{name}` takes a number, not '{digits}'");
    };
    Ok(ScalarValue::Utf8(Some(formatted)))
}

/// Java's `DecimalFormat` writes infinity as `∞` and NaN as the replacement character.
fn non_finite(v: f64) -> ScalarValue {
    let text = if v.is_nan() {
        "\u{FFFD}"
    } else if v > 0.0 {
        "∞"
    } else {
        "-∞"
    };
    ScalarValue::Utf8(Some(text.to_string()))
}

/// Plain decimal text (`-1234.5678`) rounded half-even to `decimals` places, with grouped
/// thousands; `None` if it is not such text.
fn group_and_round(number: &str, decimals: usize) -> Option<String> {
    let (negative, unsigned) = match number.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, number),
    };
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    if whole.is_empty()
        || !whole
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let mut digits: Vec<u8> = whole
        .bytes()
        .chain(fraction.bytes())
        .map(|b| b - b'0')
        .collect();
    let keep = whole.len() + decimals;
    let mut fraction_digits: Vec<u8> = fraction.bytes().map(|b| b - b'0').collect();
    fraction_digits.resize(decimals.max(fraction_digits.len()), 0);
    digits.resize(whole.len() + fraction_digits.len(), 0);
    let round_up = match digits.get(keep) {
        None => false,
        Some(&d) if d > 5 => true,
        Some(&d) if d < 5 => false,
        Some(_) => {
            let rest_nonzero = digits[keep + 1..].iter().any(|&d| d != 0);
            let last_odd = keep > 0 && digits[keep - 1] % 2 == 1;
            rest_nonzero || last_odd
        }
    };
    digits.truncate(keep);
    if round_up {
        let mut i = digits.len();
        loop {
            if i == 0 {
                digits.insert(0, 1);
                break;
            }
            i -= 1;
            if digits[i] == 9 {
                digits[i] = 0;
            } else {
                digits[i] += 1;
                break;
            }
        }
    }
    let whole_len = digits.len() - decimals;
    let mut out = String::new();
    let is_zero = digits.iter().all(|&d| d == 0);
    if negative && !is_zero {
        out.push('-');
    }
    for (i, d) in digits[..whole_len].iter().enumerate() {
        if i > 0 && (whole_len - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(char::from(b'0' + d));
    }
    if whole_len == 0 {
        out.push('0');
    }
    if decimals > 0 {
        out.push('.');
        out.extend(digits[whole_len..].iter().map(|d| char::from(b'0' + d)));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf8(s: &str) -> ScalarValue {
        ScalarValue::Utf8(Some(s.to_string()))
    }

    #[test]
    fn numbers_are_grouped_and_rounded_half_even() {
        assert_eq!(group_and_round("5", 4).as_deref(), Some("5.0000"));
        assert_eq!(
            group_and_round("12332.123456", 4).as_deref(),
            Some("12,332.1235")
        );
        assert_eq!(
            group_and_round("1234567.5", 0).as_deref(),
            Some("1,234,568")
        );
        assert_eq!(group_and_round("2.5", 0).as_deref(), Some("2"));
        assert_eq!(group_and_round("-0.001", 2).as_deref(), Some("0.00"));
        assert_eq!(group_and_round("999.995", 2).as_deref(), Some("1,000.00"));
        assert_eq!(group_and_round("1e5", 2), None);
    }

    #[test]
    fn conv_reads_a_prefix_and_writes_unsigned_or_signed() {
        let conv = |n: &str, from: i64, to: i64| {
            super::conv(
                "conv",
                &[
                    utf8(n),
                    ScalarValue::Int64(Some(from)),
                    ScalarValue::Int64(Some(to)),
                ],
            )
            .unwrap()
        };
        assert_eq!(conv("100", 2, 10), utf8("4"));
        assert_eq!(conv("-10", 16, -10), utf8("-16"));
        assert_eq!(conv("-1", 10, 16), utf8("FFFFFFFFFFFFFFFF"));
        assert_eq!(conv("12zz", 10, 10), utf8("12"));
        assert_eq!(conv("1", 1, 10), ScalarValue::Utf8(None));
    }

    #[test]
    fn mask_replaces_classes_and_null_keeps_them() {
        let got = mask(
            "mask",
            &[utf8("AbCD123-@$#"), utf8("Y"), ScalarValue::Utf8(None)],
        )
        .unwrap();
        assert_eq!(got, utf8("YbYYnnn-@$#"));
    }
}
