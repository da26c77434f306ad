//! Spark's number formats: `to_number(text, format)`, `try_to_number`, and `to_char(number,
//! format)` with its alias `to_varchar` (which write dates and timestamps with a Java date
//! pattern, as `date_format` does). A format is Spark's: `0`/`9` digits, `.`/`D` the decimal
//! point, `,`/`G` a grouping separator, `$` the currency sign, `S`/`MI` a sign and `PR` angle
//! brackets around a negative number. `to_number` reads `decimal(digits, fraction digits)`.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Decimal128Builder, StringBuilder};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Decimal128Type, FieldRef};
use datafusion::common::{DataFusionError, Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

use crate::columnar::{all_scalar, finish, is_text};
use crate::shorthand::session_call;

pub fn functions() -> Vec<Arc<ScalarUDF>> {
    [
        Operation::ToNumber,
        Operation::TryToNumber,
        Operation::ToChar,
    ]
    .into_iter()
    .map(|operation| {
        Arc::new(ScalarUDF::from(NumberFormat {
            operation,
            aliases: if operation == Operation::ToChar {
                vec!["to_varchar".into()]
            } else {
                Vec::new()
            },
            signature: Signature::user_defined(Volatility::Immutable),
        }))
    })
    .collect()
}

/// One element of a number format.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    /// A run of `0`/`9`; `zero` when it starts with `0` (pads with zeros, not spaces).
    Digits {
        count: usize,
        zero: bool,
    },
    Point,
    Group,
    Dollar,
    /// `S` or `MI`: a sign, `-` or `+` (`MI` writes a space for positives).
    Sign {
        plus: bool,
    },
    /// `PR`: angle brackets around a negative number.
    Brackets,
}

/// A parsed format: its tokens and the decimal type it reads.
#[derive(Debug, Clone, PartialEq)]
struct Format {
    tokens: Vec<Token>,
    precision: u8,
    scale: i8,
}

fn parse_format(text: &str) -> std::result::Result<Format, String> {
    let invalid = |why: &str| format!("[INVALID_FORMAT.{why}] The format '{text}' is invalid");
    let upper = text.to_ascii_uppercase();
    let bytes = upper.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'0' | b'9' => {
                let start = i;
                while i < bytes.len() && matches!(bytes[i], b'0' | b'9') {
                    i += 1;
                }
                tokens.push(Token::Digits {
                    count: i - start,
                    zero: bytes[start] == b'0',
                });
                continue;
            }
            b'.' | b'D' => tokens.push(Token::Point),
            b',' | b'G' => tokens.push(Token::Group),
            b'$' => tokens.push(Token::Dollar),
            b'S' => tokens.push(Token::Sign { plus: true }),
            b'M' if bytes.get(i + 1) == Some(&b'I') => {
                tokens.push(Token::Sign { plus: false });
                i += 1;
            }
            b'P' if bytes.get(i + 1) == Some(&b'R') => {
                tokens.push(Token::Brackets);
                i += 1;
            }
            _ => return Err(invalid("UNEXPECTED_TOKEN")),
        }
        i += 1;
    }
    let point = tokens.iter().position(|t| *t == Token::Point);
    if tokens.iter().filter(|t| **t == Token::Point).count() > 1 {
        return Err(invalid("CONT_THOUSANDS_SEPS"));
    }
    let digits = |range: &[Token]| -> usize {
        range
            .iter()
            .map(|t| match t {
                Token::Digits { count, .. } => *count,
                _ => 0,
            })
            .sum()
    };
    let (whole, fraction) = match point {
        Some(at) => (digits(&tokens[..at]), digits(&tokens[at + 1..])),
        None => (digits(&tokens), 0),
    };
    if whole + fraction == 0 || whole + fraction > 38 {
        return Err(invalid("WRONG_NUM_DIGIT"));
    }
    Ok(Format {
        tokens,
        precision: (whole + fraction) as u8,
        scale: fraction as i8,
    })
}

#[derive(Debug, PartialEq, Eq, Hash, Clone, Copy)]
enum Operation {
    ToNumber,
    TryToNumber,
    ToChar,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct NumberFormat {
    operation: Operation,
    aliases: Vec<String>,
    signature: Signature,
}

fn is_temporal(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Date32 | DataType::Date64 | DataType::Timestamp(_, _)
    )
}

impl ScalarUDFImpl for NumberFormat {
    fn name(&self) -> &str {
        match self.operation {
            Operation::ToNumber => "to_number",
            Operation::TryToNumber => "try_to_number",
            Operation::ToChar => "to_char",
        }
    }

    fn aliases(&self) -> &[String] {
        &self.aliases
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let [value, format] = arg_types else {
            return plan_err!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] `{}` takes 2 arguments, not {}",
                self.name(),
                arg_types.len()
            );
        };
        if !is_text(format) {
            return plan_err!("`{}` takes its format as a string", self.name());
        }
        let value = match (self.operation, value) {
            (Operation::ToChar, t) if is_temporal(t) => t.clone(),
            (Operation::ToChar, DataType::Decimal128(p, s)) => DataType::Decimal128(*p, *s),
            (Operation::ToChar, t) if t.is_numeric() || t == &DataType::Null => {
                DataType::Decimal128(38, 18)
            }
            (Operation::ToNumber | Operation::TryToNumber, t) if is_text(t) => DataType::Utf8,
            (_, other) => {
                return plan_err!(
                    "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] `{}` does not take {}",
                    self.name(),
                    crate::spark_type_name(other)
                );
            }
        };
        Ok(vec![value, DataType::Utf8])
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        match self.operation {
            Operation::ToChar => Ok(DataType::Utf8),
            _ => plan_err!("`{}` is typed by its format", self.name()),
        }
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let data_type = match self.operation {
            Operation::ToChar => DataType::Utf8,
            Operation::ToNumber | Operation::TryToNumber => {
                let Some(Some(ScalarValue::Utf8(Some(text)))) = args.scalar_arguments.get(1) else {
                    return plan_err!(
                        "[DATATYPE_MISMATCH.NON_FOLDABLE_INPUT] `{}` takes its format as a string literal",
                        self.name()
                    );
                };
                let format = parse_format(text).map_err(DataFusionError::Plan)?;
                DataType::Decimal128(format.precision, format.scale)
            }
        };
        Ok(Arc::new(arrow::datatypes::Field::new(
            self.name(),
            data_type,
            true,
        )))
    }

    /// `to_char` of a date or timestamp is `date_format`.
    fn simplify(&self, args: Vec<Expr>, info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        if self.operation == Operation::ToChar
            && let Some(first) = args.first()
            && is_temporal(&info.get_data_type(first)?)
        {
            return Ok(ExprSimplifyResult::Simplified(session_call(
                "date_format",
                args,
                info,
            )?));
        }
        Ok(ExprSimplifyResult::Original(args))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = all_scalar(&args.args);
        let rows = args.number_rows;
        let formats = cast(&args.args[1].to_array(rows)?, &DataType::Utf8)?;
        let formats = formats.as_string::<i32>();
        let values: ArrayRef = args.args[0].to_array(rows)?;
        let mut parsed: Option<(String, Format)> = None;
        let mut format_of = |text: &str| -> Result<Format> {
            if let Some((seen, format)) = &parsed
                && seen == text
            {
                return Ok(format.clone());
            }
            let format = parse_format(text).map_err(DataFusionError::Execution)?;
            parsed = Some((text.to_string(), format.clone()));
            Ok(format)
        };
        let result: ArrayRef = match self.operation {
            Operation::ToChar => {
                let DataType::Decimal128(_, scale) = values.data_type() else {
                    return exec_err!("`to_char` formats decimals");
                };
                let scale = *scale;
                let decimals = values.as_primitive::<Decimal128Type>();
                let mut out = StringBuilder::with_capacity(rows, rows * 8);
                for row in 0..rows {
                    if decimals.is_null(row) || formats.is_null(row) {
                        out.append_null();
                        continue;
                    }
                    let format = format_of(formats.value(row))?;
                    out.append_value(write_number(decimals.value(row), scale, &format));
                }
                Arc::new(out.finish())
            }
            Operation::ToNumber | Operation::TryToNumber => {
                let DataType::Decimal128(precision, scale) = args.return_type() else {
                    return exec_err!("`to_number` reads decimals");
                };
                let texts = values.as_string::<i32>();
                let mut out = Decimal128Builder::with_capacity(rows);
                for row in 0..rows {
                    if texts.is_null(row) || formats.is_null(row) {
                        out.append_null();
                        continue;
                    }
                    let format = format_of(formats.value(row))?;
                    match read_number(texts.value(row), &format) {
                        Some(v) => out.append_value(v),
                        None if self.operation == Operation::TryToNumber => out.append_null(),
                        None => {
                            return exec_err!(
                                "[INVALID_FORMAT.MISMATCH_INPUT] The input '{}' does not match the format '{}'.",
                                texts.value(row),
                                formats.value(row)
                            );
                        }
                    }
                }
                Arc::new(out.finish().with_precision_and_scale(*precision, *scale)?)
            }
        };
        finish(result, scalar)
    }
}

/// The unscaled decimal `text` reads as under `format`; `None` when it does not match.
fn read_number(text: &str, format: &Format) -> Option<i128> {
    let mut rest = text.trim();
    let mut negative = false;
    let mut whole = String::new();
    let mut fraction = String::new();
    let mut after_point = false;
    // `PR` stands at the end of a format, its brackets around the whole number.
    if format.tokens.contains(&Token::Brackets)
        && let Some(inner) = rest.strip_prefix('<').and_then(|r| r.strip_suffix('>'))
    {
        negative = true;
        rest = inner;
    }
    for token in &format.tokens {
        match token {
            Token::Dollar => rest = rest.strip_prefix('$')?,
            Token::Sign { .. } => {
                if let Some(r) = rest.strip_prefix('-') {
                    negative = true;
                    rest = r;
                } else if let Some(r) = rest.strip_prefix('+') {
                    rest = r;
                }
            }
            Token::Brackets => {}
            Token::Point => {
                after_point = true;
                if let Some(r) = rest.strip_prefix('.') {
                    rest = r;
                }
            }
            Token::Group => {
                if let Some(r) = rest.strip_prefix(',') {
                    rest = r;
                }
            }
            Token::Digits { count, .. } => {
                let taken = rest
                    .bytes()
                    .take(*count)
                    .take_while(u8::is_ascii_digit)
                    .count();
                let target = if after_point {
                    &mut fraction
                } else {
                    &mut whole
                };
                target.push_str(&rest[..taken]);
                rest = &rest[taken..];
            }
        }
    }
    if !rest.is_empty() || (whole.is_empty() && fraction.is_empty()) {
        return None;
    }
    let scale = usize::try_from(format.scale).ok()?;
    let padded = format!("{fraction:0<scale$}");
    let unscaled: i128 = format!("{}{padded}", if whole.is_empty() { "0" } else { &whole })
        .parse()
        .ok()?;
    Some(if negative { -unscaled } else { unscaled })
}

/// `value` (unscaled, at `scale`) written by `format`; `#`s when its digits do not fit.
fn write_number(value: i128, scale: i8, format: &Format) -> String {
    let negative = value < 0;
    let magnitude = value.unsigned_abs();
    // To the format's scale, rounding half up.
    let shift = i32::from(format.scale) - i32::from(scale);
    let magnitude = if shift >= 0 {
        magnitude.saturating_mul(10u128.saturating_pow(shift as u32))
    } else {
        let divisor = 10u128.pow((-shift) as u32);
        (magnitude + divisor / 2) / divisor
    };
    let fraction_digits = usize::try_from(format.scale).unwrap_or(0);
    let digits = magnitude.to_string();
    let digits = format!("{digits:0>width$}", width = fraction_digits + 1);
    let (whole, fraction) = digits.split_at(digits.len() - fraction_digits);
    let whole = whole.trim_start_matches('0');
    let whole_width: usize = format
        .tokens
        .iter()
        .take_while(|t| **t != Token::Point)
        .map(|t| match t {
            Token::Digits { count, .. } => *count,
            _ => 0,
        })
        .sum();
    let overflow = whole.len() > whole_width;
    let mut out = String::new();
    let mut whole_left: Vec<char> = whole.chars().collect();
    let mut fraction_left = fraction.chars();
    let mut after_point = false;
    // The whole part's digit slots, filled from the right.
    let mut slots: Vec<char> = Vec::new();
    for token in &format.tokens {
        match token {
            Token::Digits { count, zero } if !after_point => {
                let mut run = Vec::with_capacity(*count);
                for _ in 0..*count {
                    run.push(if *zero { '0' } else { ' ' });
                }
                slots.extend(run);
            }
            _ => {}
        }
        if *token == Token::Point {
            after_point = true;
        }
    }
    for slot in slots.iter_mut().rev() {
        match whole_left.pop() {
            Some(d) => *slot = d,
            None => break,
        }
    }
    let mut slot_at: usize = 0;
    after_point = false;
    for token in &format.tokens {
        match token {
            Token::Dollar => out.push('$'),
            Token::Sign { plus } => out.push(match (negative, plus) {
                (true, _) => '-',
                (false, true) => '+',
                (false, false) => ' ',
            }),
            Token::Brackets => {}
            Token::Point => {
                after_point = true;
                out.push('.');
            }
            Token::Group => {
                // A separator between padding spaces is a space too.
                let padded = slots
                    .get(slot_at.wrapping_sub(1))
                    .is_some_and(|c| *c == ' ');
                out.push(if padded { ' ' } else { ',' });
            }
            Token::Digits { count, .. } => {
                for _ in 0..*count {
                    if after_point {
                        out.push(fraction_left.next().unwrap_or('0'));
                    } else {
                        out.push(if overflow { '#' } else { slots[slot_at] });
                        slot_at += 1;
                    }
                }
            }
        }
    }
    if format.tokens.contains(&Token::Brackets) && negative {
        out = format!("<{out}>");
    }
    if overflow {
        out = out
            .chars()
            .map(|c| if c.is_ascii_digit() { '#' } else { c })
            .collect();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn format(text: &str) -> Format {
        parse_format(text).unwrap()
    }

    #[test]
    fn numbers_read_by_their_format() {
        let money = format("$99.99");
        assert_eq!((money.precision, money.scale), (4, 2));
        assert_eq!(read_number("$78.12", &money), Some(7812));
        assert_eq!(read_number("77", &money), None);
        assert_eq!(read_number("1,234.5", &format("9,999.99")), Some(123450));
        assert_eq!(read_number("-12", &format("S99")), Some(-12));
        assert_eq!(read_number("<12>", &format("99PR")), Some(-12));
        assert!(parse_format("9x9").is_err());
    }

    #[test]
    fn numbers_write_by_their_format() {
        assert_eq!(write_number(7812, 2, &format("$99.99")), "$78.12");
        assert_eq!(write_number(78125, 3, &format("99.99")), "78.13");
        assert_eq!(write_number(5, 0, &format("000")), "005");
        assert_eq!(write_number(1234, 0, &format("9,999")), "1,234");
        assert_eq!(write_number(12345, 0, &format("999")), "###");
        assert_eq!(write_number(-12, 0, &format("S99")), "-12");
    }
}
