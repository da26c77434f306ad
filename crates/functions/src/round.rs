//! `round` of doubles and floats as Spark rounds them: HALF_UP on the number's shortest decimal
//! text (`BigDecimal(d).setScale(n, HALF_UP)`), so `round(2.675, 2)` is 2.68 even though the
//! double nearest 2.675 lies just below it.

use std::sync::{Arc, LazyLock};

use arrow::array::{ArrayRef, AsArray};
use arrow::datatypes::{DataType, Float32Type, Float64Type};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

pub const NAME: &str = "spark_round";

static FUNCTION: LazyLock<Arc<ScalarUDF>> =
    LazyLock::new(|| Arc::new(ScalarUDF::from(SparkRound::default())));

pub fn udf() -> Arc<ScalarUDF> {
    FUNCTION.clone()
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct SparkRound {
    signature: Signature,
}

impl Default for SparkRound {
    fn default() -> Self {
        SparkRound {
            signature: Signature::any(2, Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for SparkRound {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match arg_types.first() {
            Some(t @ (DataType::Float32 | DataType::Float64)) => Ok(t.clone()),
            other => exec_err!("{NAME} rounds floats and doubles, not {other:?}"),
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [value, scale] = args.args.as_slice() else {
            return exec_err!("{NAME} takes a value and a scale");
        };
        let scale = match scale {
            ColumnarValue::Scalar(s) if s.is_null() => return null_of(value),
            ColumnarValue::Scalar(s) => match s.cast_to(&DataType::Int32)? {
                ScalarValue::Int32(Some(scale)) => scale,
                other => return exec_err!("{NAME} needs an integer scale, not {other}"),
            },
            ColumnarValue::Array(_) => return exec_err!("{NAME} needs a constant scale"),
        };
        let is_scalar = matches!(value, ColumnarValue::Scalar(_));
        let array = value.to_array(1)?;
        let rounded: ArrayRef = match array.data_type() {
            DataType::Float64 => Arc::new(
                array
                    .as_primitive::<Float64Type>()
                    .unary::<_, Float64Type>(|v| round_half_up(v, scale)),
            ) as ArrayRef,
            DataType::Float32 => Arc::new(
                array
                    .as_primitive::<Float32Type>()
                    .unary::<_, Float32Type>(|v| round_f32(v, scale)),
            ),
            other => return exec_err!("{NAME} rounds floats and doubles, not {other}"),
        };
        if is_scalar {
            return Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
                &rounded, 0,
            )?));
        }
        Ok(ColumnarValue::Array(rounded))
    }
}

fn null_of(value: &ColumnarValue) -> Result<ColumnarValue> {
    Ok(ColumnarValue::Scalar(ScalarValue::try_from(
        &value.data_type(),
    )?))
}

fn round_f32(value: f32, scale: i32) -> f32 {
    if !value.is_finite() {
        return value;
    }
    round_text(&format!("{value:e}"), scale, Rounding::HalfUp).unwrap_or(value as f64) as f32
}

/// `value` rounded HALF_UP to `scale` decimal places (negative: to tens, hundreds, …).
pub fn round_half_up(value: f64, scale: i32) -> f64 {
    round_decimal_text(value, scale, Rounding::HalfUp)
}

/// How the digits past a scale are dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rounding {
    /// Away from zero from the half up (Spark's `round`).
    HalfUp,
    /// To the even neighbour at the half (Spark's `bround`).
    HalfEven,
    /// Towards positive infinity (`ceil(x, scale)`).
    Ceiling,
    /// Towards negative infinity (`floor(x, scale)`).
    Floor,
}

/// `value` rounded to `scale` decimal places on its shortest decimal text, as Spark's
/// `BigDecimal(d).setScale(scale, mode)` does.
pub fn round_decimal_text(value: f64, scale: i32, mode: Rounding) -> f64 {
    if !value.is_finite() {
        return value;
    }
    round_text(&format!("{value:e}"), scale, mode).unwrap_or(value)
}

/// Rounds a number written as Rust's shortest `{:e}` text (`-2.675e0`); `None` leaves it as is.
fn round_text(text: &str, scale: i32, mode: Rounding) -> Option<f64> {
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exponent) = text.split_once('e')?;
    let exponent: i32 = exponent.parse().ok()?;
    let digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
    // The first digit stands at 10^exponent; keep those at 10^-scale and above.
    let kept = exponent + scale + 1;
    let (kept_digits, dropped): (&[u8], &[u8]) = if kept < 0 {
        (&[], &[])
    } else if kept as usize >= digits.len() {
        // Already within the scale: unchanged.
        return None;
    } else {
        digits.split_at(kept as usize)
    };
    let mut unscaled: u128 = 0;
    for digit in kept_digits {
        unscaled = unscaled * 10 + u128::from(digit - b'0');
    }
    // Below the scale's first digit entirely (kept < 0): only a directed rounding moves it.
    let any_dropped = kept < 0 || dropped.iter().any(|d| *d != b'0');
    let up = match mode {
        Rounding::HalfUp => dropped.first().is_some_and(|d| *d >= b'5'),
        Rounding::HalfEven => match dropped.first() {
            Some(d) if *d > b'5' => true,
            Some(b'5') => dropped[1..].iter().any(|d| *d != b'0') || unscaled % 2 == 1,
            _ => false,
        },
        Rounding::Ceiling => any_dropped && !negative,
        Rounding::Floor => any_dropped && negative,
    };
    if up {
        unscaled += 1;
    }
    let magnitude: f64 = format!("{unscaled}e{}", -scale).parse().ok()?;
    Some(if negative { -magnitude } else { magnitude })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_the_decimal_text_half_up() {
        assert_eq!(round_half_up(2.675, 2), 2.68);
        assert_eq!(round_half_up(-2.675, 2), -2.68);
        assert_eq!(round_half_up(2.5, 0), 3.0);
        assert_eq!(round_half_up(-2.5, 0), -3.0);
        assert_eq!(round_half_up(0.125, 2), 0.13);
        assert_eq!(round_half_up(1.005, 2), 1.01);
        assert_eq!(round_half_up(1234.5678, -2), 1200.0);
        assert_eq!(round_half_up(1250.0, -2), 1300.0);
        assert_eq!(round_half_up(0.0004, 2), 0.0);
        assert_eq!(round_half_up(0.005, 2), 0.01);
        assert_eq!(round_half_up(1.23456, 10), 1.23456);
        assert_eq!(round_half_up(1e300, 2), 1e300);
        assert!(round_half_up(f64::NAN, 2).is_nan());
        assert_eq!(round_f32(2.675, 2), 2.68);
    }

    #[test]
    fn rounds_the_decimal_text_half_even_and_towards_the_infinities() {
        let even = |v, s| round_decimal_text(v, s, Rounding::HalfEven);
        assert_eq!(even(2.5, 0), 2.0);
        assert_eq!(even(3.5, 0), 4.0);
        assert_eq!(even(2.1267, 2), 2.13);
        assert_eq!(even(0.125, 2), 0.12);
        assert_eq!(even(0.1251, 2), 0.13);
        let ceil = |v, s| round_decimal_text(v, s, Rounding::Ceiling);
        assert_eq!(ceil(-0.1, 1), -0.1);
        assert_eq!(ceil(0.29, 2), 0.29);
        assert_eq!(ceil(2.1201, 2), 2.13);
        assert_eq!(ceil(0.0004, 2), 0.01);
        assert_eq!(ceil(-2.1201, 2), -2.12);
        let floor = |v, s| round_decimal_text(v, s, Rounding::Floor);
        assert_eq!(floor(2.1267, 2), 2.12);
        assert_eq!(floor(0.29, 2), 0.29);
        assert_eq!(floor(-0.0004, 2), -0.01);
        assert_eq!(floor(-2.1201, 2), -2.13);
    }
}
