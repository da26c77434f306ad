//! Spark's exponentials, logarithms, hyperbolic functions and cube root, bit for bit.
//! Spark computes them with the JVM's `Math`/`StrictMath`, whose `exp`, `log`, `expm1`,
//! `log1p`, `cosh`, `sinh` and `cbrt` are fdlibm's algorithms; the C library's are more
//! accurate and so differ from Spark's in the last bit (`exp(1)` is 2.7182818284590455 in
//! Spark, 2.718281828459045 in glibc), which shows in `show()` and in comparisons. The
//! `libm` crate carries the FreeBSD descendants of fdlibm's `exp`, `log`, `log10`, `expm1`
//! and `log1p`, which agree with the JVM's; `cosh`, `sinh` and `cbrt` follow fdlibm here.
//! The logarithms are NULL where undefined (a non-positive argument or base), as Spark's.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Float64Array};
use arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

/// One double in, one double (or NULL) out.
type Kernel = fn(f64) -> Option<f64>;

pub fn functions() -> Vec<Arc<ScalarUDF>> {
    [
        ("exp", exp as Kernel),
        ("expm1", |x| Some(libm::expm1(x))),
        ("cosh", |x| Some(cosh(x))),
        ("sinh", |x| Some(sinh(x))),
        ("cbrt", |x| Some(cbrt(x))),
        ("ln", ln),
        ("log10", |x| defined_above(x, 0.0).then(|| libm::log10(x))),
        // Spark's `log2` is `log(x) / log(2)`, not a base-2 algorithm.
        ("log2", |x| ln(x).map(|l| l / std::f64::consts::LN_2)),
        ("log1p", |x| defined_above(x, -1.0).then(|| libm::log1p(x))),
    ]
    .into_iter()
    .map(|(name, kernel)| udf(name, kernel, 1))
    .chain([udf("log", ln, 2)])
    .collect()
}

fn exp(x: f64) -> Option<f64> {
    Some(libm::exp(x))
}

fn ln(x: f64) -> Option<f64> {
    defined_above(x, 0.0).then(|| libm::log(x))
}

/// Spark's logarithms are NULL at or below their asymptote; NaN is not below it, and its
/// logarithm is NaN.
fn defined_above(x: f64, asymptote: f64) -> bool {
    x > asymptote || x.is_nan()
}

fn udf(name: &'static str, kernel: Kernel, most_arguments: usize) -> Arc<ScalarUDF> {
    Arc::new(ScalarUDF::from(JavaMath {
        name,
        kernel,
        most_arguments,
        signature: Signature::user_defined(Volatility::Immutable),
    }))
}

/// A function of doubles computed as the JVM computes it. With two arguments (`log(base,
/// x)`) the kernel is applied to both and the first result divides the second, as Spark's
/// `Logarithm` does.
#[derive(Debug)]
struct JavaMath {
    name: &'static str,
    kernel: Kernel,
    most_arguments: usize,
    signature: Signature,
}

impl PartialEq for JavaMath {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for JavaMath {}

impl std::hash::Hash for JavaMath {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

impl ScalarUDFImpl for JavaMath {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if arg_types.is_empty() || arg_types.len() > self.most_arguments {
            let expected = match self.most_arguments {
                1 => "1".to_string(),
                n => format!("[1, {n}]"),
            };
            return plan_err!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `{}` requires {expected} parameters but the actual number is {}.",
                self.name,
                arg_types.len()
            );
        }
        arg_types
            .iter()
            .map(|t| {
                if t.is_numeric() || t.is_null() || matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View) {
                    Ok(DataType::Float64)
                } else {
                    plan_err!(
                        "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] `{}` takes a number (DOUBLE), not {t}",
                        self.name
                    )
                }
            })
            .collect()
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let scalar = args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let doubles = arrays
            .iter()
            .map(|a| {
                a.as_any()
                    .downcast_ref::<Float64Array>()
                    .cloned()
                    .ok_or_else(|| {
                        datafusion::common::DataFusionError::Internal(format!(
                            "`{}` expects doubles after coercion, got {}",
                            self.name,
                            a.data_type()
                        ))
                    })
            })
            .collect::<Result<Vec<_>>>()?;
        let kernel = self.kernel;
        let result: Float64Array = match doubles.as_slice() {
            [x] => x.iter().map(|v| v.and_then(kernel)).collect(),
            [base, x] => base
                .iter()
                .zip(x.iter())
                .map(|(b, v)| Some(kernel(v?)? / kernel(b?)?))
                .collect(),
            _ => return plan_err!("`{}` takes 1 or 2 arguments", self.name),
        };
        let result: ArrayRef = Arc::new(result);
        if scalar && rows <= 1 {
            Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
                &result, 0,
            )?))
        } else {
            Ok(ColumnarValue::Array(result))
        }
    }
}

/// fdlibm's `cosh`: `expm1` near zero, the sum of exponentials up to 22, half an
/// exponential beyond, and a split exponential near overflow.
fn cosh(x: f64) -> f64 {
    let a = x.abs();
    if a.is_nan() || a.is_infinite() {
        return x * x;
    }
    if a < 0.5 * std::f64::consts::LN_2 {
        let t = libm::expm1(a);
        let w = 1.0 + t;
        if a < 2f64.powi(-55) {
            return w;
        }
        return 1.0 + (t * t) / (w + w);
    }
    if a < 22.0 {
        let t = libm::exp(a);
        return 0.5 * t + 0.5 / t;
    }
    if a < f64::MAX.ln() {
        return 0.5 * libm::exp(a);
    }
    let w = libm::exp(0.5 * a);
    0.5 * w * w
}

/// fdlibm's `sinh`: from `expm1` below 22, half an exponential beyond, and a split
/// exponential near overflow.
fn sinh(x: f64) -> f64 {
    if x.is_nan() || x.is_infinite() {
        return x + x;
    }
    let h = if x.is_sign_negative() { -0.5 } else { 0.5 };
    let a = x.abs();
    if a < 22.0 {
        if a < 2f64.powi(-28) {
            return x;
        }
        let t = libm::expm1(a);
        if a < 1.0 {
            return h * (2.0 * t - t * t / (t + 1.0));
        }
        return h * (t + t / (t + 1.0));
    }
    if a < f64::MAX.ln() {
        return h * libm::exp(a);
    }
    let w = libm::exp(0.5 * a);
    h * w * w
}

/// fdlibm's cube root (the JVM's `StrictMath.cbrt`): a 5-bit guess from the exponent, a
/// rational refinement to 23 bits, then one Newton step.
fn cbrt(x: f64) -> f64 {
    const B1: u32 = 715_094_163;
    const B2: u32 = 696_219_795;
    const C: f64 = 5.428_571_428_571_428e-1;
    const D: f64 = -7.053_061_224_489_796e-1;
    const E: f64 = 1.414_285_714_285_714_4;
    const F: f64 = 1.607_142_857_142_857_2;
    const G: f64 = 3.571_428_571_428_571_5e-1;
    let sign = x.to_bits() & (1 << 63);
    let magnitude = x.to_bits() & !(1 << 63);
    let high = high_word(f64::from_bits(magnitude));
    if high >= 0x7ff0_0000 {
        return x + x;
    }
    if magnitude == 0 {
        return x;
    }
    let x = f64::from_bits(magnitude);
    let mut t = if high < 0x0010_0000 {
        // Subnormal: scale by 2^54 first so the exponent guess works.
        let t = with_high_word(0.0, 0x4350_0000) * x;
        with_high_word(t, high_word(t) / 3 + B2)
    } else {
        with_high_word(0.0, high / 3 + B1)
    };
    let r = t * t / x;
    let s = C + r * t;
    t *= G + F / (s + E + D / s);
    // Chop to 20 bits, rounded up, so the Newton step below converges from above.
    t = f64::from_bits(u64::from(high_word(t) + 1) << 32);
    let s = t * t;
    let r = x / s;
    let w = t + t;
    let r = (r - t) / (w + r);
    t += t * r;
    f64::from_bits(t.to_bits() | sign)
}

fn high_word(x: f64) -> u32 {
    (x.to_bits() >> 32) as u32
}

fn with_high_word(x: f64, high: u32) -> f64 {
    f64::from_bits((x.to_bits() & 0xffff_ffff) | (u64::from(high) << 32))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Answers Apache Spark 4.2.0 gives (testdata/spark-oracle and PySpark's docstrings).
    #[test]
    fn agrees_with_the_jvm_in_the_last_bit() {
        assert_eq!(exp(1.0), Some(2.718_281_828_459_045_5));
        assert_eq!(ln(3.0), Some(1.098_612_288_668_109_6));
        assert_eq!(cosh(1.0), 1.543_080_634_815_244);
        assert_eq!(cbrt(-30.0), -3.107_232_505_953_858_6);
        assert_eq!(cbrt(-7.75), -1.978_945_804_840_202_9);
        assert_eq!(
            ln(9.0).map(|l| l / std::f64::consts::LN_2),
            Some(3.169_925_001_442_312_6)
        );
    }

    #[test]
    fn edges() {
        assert_eq!(ln(0.0), None);
        assert_eq!(ln(-1.0), None);
        assert!(ln(f64::NAN).is_some_and(f64::is_nan));
        assert!(cosh(f64::NAN).is_nan());
        assert_eq!(cosh(f64::NEG_INFINITY), f64::INFINITY);
        assert_eq!(sinh(f64::NEG_INFINITY), f64::NEG_INFINITY);
        assert_eq!(sinh(-0.0).to_bits(), (-0.0f64).to_bits());
        assert!(cosh(710.0).is_finite());
        assert_eq!(cbrt(-0.0).to_bits(), (-0.0f64).to_bits());
        assert_eq!(cbrt(27.0), 3.0);
        assert!((cbrt(5e-324) / 1.7031839360032603e-108 - 1.0).abs() < 1e-15);
        assert_eq!(sinh(1.0), -sinh(-1.0));
    }
}
