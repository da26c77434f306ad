//! Spark's decimal result types (`DecimalPrecision` with `allowPrecisionLoss`, its default) and
//! exact HALF_UP arithmetic on unscaled values.

use std::sync::LazyLock;

use arrow::datatypes::i256;

/// Spark's largest decimal precision, which is also Arrow's `Decimal128`.
pub const MAX_PRECISION: u8 = 38;
/// The least scale Spark keeps when a result is too wide and its scale has to give way.
const MINIMUM_ADJUSTED_SCALE: i32 = 6;

/// The binary decimal operations whose result types Spark defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DecimalOp {
    Add,
    Subtract,
    Multiply,
    Divide,
    Remainder,
}

impl DecimalOp {
    pub const ALL: [DecimalOp; 5] = [
        DecimalOp::Add,
        DecimalOp::Subtract,
        DecimalOp::Multiply,
        DecimalOp::Divide,
        DecimalOp::Remainder,
    ];

    /// The name of the function computing this operation.
    pub fn function_name(self) -> &'static str {
        match self {
            DecimalOp::Add => "spark_decimal_add",
            DecimalOp::Subtract => "spark_decimal_subtract",
            DecimalOp::Multiply => "spark_decimal_multiply",
            DecimalOp::Divide => "spark_decimal_divide",
            DecimalOp::Remainder => "spark_decimal_remainder",
        }
    }
}

/// The precision and scale Spark gives `(p1, s1) op (p2, s2)`.
pub fn spark_result_type(op: DecimalOp, left: (u8, i8), right: (u8, i8)) -> (u8, i8) {
    let (p1, s1) = (i32::from(left.0), i32::from(left.1));
    let (p2, s2) = (i32::from(right.0), i32::from(right.1));
    let (precision, scale) = match op {
        DecimalOp::Add | DecimalOp::Subtract => {
            let scale = s1.max(s2);
            ((p1 - s1).max(p2 - s2) + scale + 1, scale)
        }
        DecimalOp::Multiply => (p1 + p2 + 1, s1 + s2),
        DecimalOp::Divide => {
            let scale = MINIMUM_ADJUSTED_SCALE.max(s1 + p2 + 1);
            (p1 - s1 + s2 + scale, scale)
        }
        DecimalOp::Remainder => {
            let scale = s1.max(s2);
            ((p1 - s1).min(p2 - s2) + scale, scale)
        }
    };
    adjust_precision_scale(precision, scale)
}

/// Spark's `DecimalType.adjustPrecisionScale`: a result wider than 38 digits keeps its integral
/// digits and gives up scale, down to six digits.
pub fn adjust_precision_scale(precision: i32, scale: i32) -> (u8, i8) {
    let max = i32::from(MAX_PRECISION);
    if precision <= max {
        return (clamp_precision(precision), scale as i8);
    }
    let integral_digits = precision - scale;
    let minimum_scale = scale.min(MINIMUM_ADJUSTED_SCALE);
    let adjusted_scale = (max - integral_digits).max(minimum_scale);
    (MAX_PRECISION, adjusted_scale as i8)
}

/// `DecimalType.bounded`: both parts capped at 38.
pub fn bounded(precision: i32, scale: i32) -> (u8, i8) {
    let max = i32::from(MAX_PRECISION);
    (clamp_precision(precision.min(max)), scale.min(max) as i8)
}

fn clamp_precision(precision: i32) -> u8 {
    precision.clamp(1, i32::from(MAX_PRECISION)) as u8
}

/// The decimal type Spark gives an integer literal: just wide enough for its digits.
pub fn literal_integer_type(value: i128) -> (u8, i8) {
    let digits = value.unsigned_abs().checked_ilog10().map_or(1, |d| d + 1);
    (digits as u8, 0)
}

/// Why a decimal computation has no answer.
#[derive(Debug, PartialEq, Eq)]
pub enum DecimalFailure {
    DivideByZero,
    Overflow,
}

/// Powers of ten up to the largest an i256 holds, computed once: rescaling is per row.
static POWERS_OF_TEN: LazyLock<Vec<i256>> = LazyLock::new(|| {
    std::iter::successors(Some(i256::ONE), |p| p.checked_mul(i256::from_i128(10))).collect()
});

pub fn pow10(exponent: u32) -> Option<i256> {
    POWERS_OF_TEN.get(exponent as usize).copied()
}

/// `value` at `from_scale` brought to `to_scale`, rounding HALF_UP (away from zero on a tie).
pub fn rescale(value: i256, from_scale: i32, to_scale: i32) -> Result<i256, DecimalFailure> {
    if to_scale >= from_scale {
        let factor = pow10((to_scale - from_scale) as u32).ok_or(DecimalFailure::Overflow)?;
        return value.checked_mul(factor).ok_or(DecimalFailure::Overflow);
    }
    match pow10((from_scale - to_scale) as u32) {
        Some(divisor) => divide_half_up(value, divisor),
        // Dropping more digits than an i256 holds leaves zero.
        None => Ok(i256::ZERO),
    }
}

/// `numerator / denominator` rounded HALF_UP.
pub fn divide_half_up(numerator: i256, denominator: i256) -> Result<i256, DecimalFailure> {
    if denominator == i256::ZERO {
        return Err(DecimalFailure::DivideByZero);
    }
    // Most values fit in an i128, whose division is many times cheaper than an i256's.
    if let (Some(n), Some(d)) = (numerator.to_i128(), denominator.to_i128())
        && n != i128::MIN
        && d != i128::MIN
    {
        let (quotient, remainder) = (n / d, n % d);
        let (r, d_abs) = (remainder.unsigned_abs(), d.unsigned_abs());
        let away = if r >= d_abs - r {
            if (n < 0) != (d < 0) { -1 } else { 1 }
        } else {
            0
        };
        return Ok(i256::from_i128(quotient + away));
    }
    let quotient = numerator
        .checked_div(denominator)
        .ok_or(DecimalFailure::Overflow)?;
    let remainder = numerator
        .checked_rem(denominator)
        .ok_or(DecimalFailure::Overflow)?;
    let twice = remainder
        .wrapping_abs()
        .checked_mul(i256::from_i128(2))
        .ok_or(DecimalFailure::Overflow)?;
    if twice >= denominator.wrapping_abs() {
        let negative = (numerator < i256::ZERO) != (denominator < i256::ZERO);
        let step = if negative { i256::MINUS_ONE } else { i256::ONE };
        return quotient.checked_add(step).ok_or(DecimalFailure::Overflow);
    }
    Ok(quotient)
}

/// `value` as an unscaled `Decimal128` of `precision` digits, or an overflow.
pub fn fit(value: i256, precision: u8) -> Result<i128, DecimalFailure> {
    let limit = pow10(u32::from(precision)).ok_or(DecimalFailure::Overflow)?;
    if value >= limit || value <= limit.wrapping_neg() {
        return Err(DecimalFailure::Overflow);
    }
    value.to_i128().ok_or(DecimalFailure::Overflow)
}

/// `a op b` for unscaled `a` at scale `s1` and `b` at `s2`, exactly, rounded HALF_UP to scale `s`.
pub fn apply(
    op: DecimalOp,
    a: i256,
    s1: i32,
    b: i256,
    s2: i32,
    s: i32,
) -> Result<i256, DecimalFailure> {
    let common = s1.max(s2);
    match op {
        DecimalOp::Add | DecimalOp::Subtract | DecimalOp::Remainder => {
            let a = rescale(a, s1, common)?;
            let b = rescale(b, s2, common)?;
            let exact = match op {
                DecimalOp::Add => a.checked_add(b),
                DecimalOp::Subtract => a.checked_sub(b),
                _ if b == i256::ZERO => return Err(DecimalFailure::DivideByZero),
                _ => a.checked_rem(b),
            }
            .ok_or(DecimalFailure::Overflow)?;
            rescale(exact, common, s)
        }
        DecimalOp::Multiply => {
            let exact = a.checked_mul(b).ok_or(DecimalFailure::Overflow)?;
            rescale(exact, s1 + s2, s)
        }
        DecimalOp::Divide => {
            // a / b at scale s is round(a * 10^(s - s1 + s2) / b).
            let shift = s - s1 + s2;
            let factor = pow10(shift.unsigned_abs()).ok_or(DecimalFailure::Overflow)?;
            if shift >= 0 {
                let numerator = a.checked_mul(factor).ok_or(DecimalFailure::Overflow)?;
                divide_half_up(numerator, b)
            } else {
                let denominator = b.checked_mul(factor).ok_or(DecimalFailure::Overflow)?;
                divide_half_up(a, denominator)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_types_follow_spark() {
        // TPC-H's `l_extendedprice * (1 - l_discount) * (1 + l_tax)`.
        let one_minus = spark_result_type(DecimalOp::Subtract, (1, 0), (15, 2));
        assert_eq!(one_minus, (16, 2));
        let charge = spark_result_type(DecimalOp::Multiply, (15, 2), one_minus);
        assert_eq!(charge, (32, 4));
        assert_eq!(
            spark_result_type(DecimalOp::Multiply, charge, (16, 2)),
            (38, 6)
        );
        assert_eq!(
            spark_result_type(DecimalOp::Divide, (10, 2), (10, 2)),
            (23, 13)
        );
        assert_eq!(
            spark_result_type(DecimalOp::Divide, (38, 10), (38, 10)),
            (38, 6)
        );
        assert_eq!(
            spark_result_type(DecimalOp::Multiply, (20, 10), (20, 10)),
            (38, 17)
        );
        assert_eq!(
            spark_result_type(DecimalOp::Remainder, (10, 2), (5, 3)),
            (5, 3)
        );
        assert_eq!(literal_integer_type(100), (3, 0));
        assert_eq!(literal_integer_type(-7), (1, 0));
        assert_eq!(literal_integer_type(0), (1, 0));
    }

    #[test]
    fn rounding_is_half_up_away_from_zero() {
        let n = |v: i128| i256::from_i128(v);
        assert_eq!(rescale(n(125), 2, 1), Ok(n(13)));
        assert_eq!(rescale(n(-125), 2, 1), Ok(n(-13)));
        assert_eq!(rescale(n(124), 2, 1), Ok(n(12)));
        assert_eq!(rescale(n(12), 1, 3), Ok(n(1200)));
        assert_eq!(divide_half_up(n(2), n(3)), Ok(n(1)));
        assert_eq!(divide_half_up(n(-2), n(3)), Ok(n(-1)));
        assert_eq!(divide_half_up(n(1), n(3)), Ok(n(0)));
        assert_eq!(
            divide_half_up(n(1), n(0)),
            Err(DecimalFailure::DivideByZero)
        );
        assert_eq!(fit(n(999), 3), Ok(999));
        assert_eq!(fit(n(1000), 3), Err(DecimalFailure::Overflow));
    }
}
