//! Spark's random functions with Spark's numbers: `rand`/`random`, `randn` and `randstr` draw
//! from Spark's `XORShiftRandom`, seeded with `seed + partition`, so a seeded call gives the
//! values Spark gives; `uniform(min, max[, seed])` is `min + (max - min) * rand(seed)` cast to
//! the bounds' type, as Spark rewrites it. A call without a seed gets a random one when the
//! plan is simplified. Ember's physical planning gives each partition its own generator
//! ([`seeded`], used by `ember_plan`'s partition rule); a call evaluated elsewhere (a filter)
//! draws from one generator for the whole query.

use std::sync::{Arc, Mutex};

use arrow::array::{ArrayRef, Float64Array, StringArray};
use arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility, lit,
};

use crate::shorthand::{cast, shorthand};
use crate::spark_hash::hash_bytes;

/// Spark's `XORShiftRandom`: `java.util.Random`'s methods over a xorshift `next(bits)`, its
/// seed spread by MurmurHash3.
#[derive(Debug, Clone)]
pub struct XorShiftRandom {
    seed: i64,
    next_gaussian: Option<f64>,
}

/// Scala's `MurmurHash3.arraySeed`.
const ARRAY_SEED: i32 = 0x3c07_4a61;

impl XorShiftRandom {
    pub fn new(init: i64) -> XorShiftRandom {
        // Spark hashes the seed's eight big-endian bytes, twice.
        let mut bytes = [0u8; 8];
        bytes[..8].copy_from_slice(&init.to_be_bytes());
        let low = hash_bytes(&bytes, ARRAY_SEED);
        let high = hash_bytes(&bytes, low);
        XorShiftRandom {
            seed: (i64::from(high) << 32) | (i64::from(low) & 0xFFFF_FFFF),
            next_gaussian: None,
        }
    }

    fn next(&mut self, bits: u32) -> i32 {
        let mut next = self.seed ^ (self.seed << 21);
        next ^= ((next as u64) >> 35) as i64;
        next ^= next << 4;
        self.seed = next;
        (next & ((1i64 << bits) - 1)) as i32
    }

    pub fn next_int(&mut self) -> i32 {
        self.next(32)
    }

    pub fn next_double(&mut self) -> f64 {
        let high = i64::from(self.next(26)) << 27;
        let low = i64::from(self.next(27));
        (high + low) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// `java.util.Random.nextGaussian`: the polar method, keeping the second value.
    pub fn next_gaussian(&mut self) -> f64 {
        if let Some(kept) = self.next_gaussian.take() {
            return kept;
        }
        loop {
            let v1 = 2.0 * self.next_double() - 1.0;
            let v2 = 2.0 * self.next_double() - 1.0;
            let s = v1 * v1 + v2 * v2;
            if s < 1.0 && s != 0.0 {
                let multiplier = (-2.0 * s.ln() / s).sqrt();
                self.next_gaussian = Some(v2 * multiplier);
                return v1 * multiplier;
            }
        }
    }
}

#[derive(Debug, PartialEq, Eq, Hash, Clone, Copy)]
pub enum Draw {
    Uniform,
    Gaussian,
    Text,
}

impl Draw {
    fn name(self) -> &'static str {
        match self {
            Draw::Uniform => "rand",
            Draw::Gaussian => "randn",
            Draw::Text => "randstr",
        }
    }

    /// The catalog names whose calls draw, for the physical rule.
    pub fn of(name: &str) -> Option<Draw> {
        match name {
            "rand" => Some(Draw::Uniform),
            "randn" => Some(Draw::Gaussian),
            "randstr" => Some(Draw::Text),
            _ => None,
        }
    }

    /// Where the seed sits among the arguments.
    pub fn seed_at(self) -> usize {
        match self {
            Draw::Uniform | Draw::Gaussian => 0,
            Draw::Text => 1,
        }
    }
}

pub fn functions() -> Vec<Arc<ScalarUDF>> {
    let mut all: Vec<Arc<ScalarUDF>> = [Draw::Uniform, Draw::Gaussian, Draw::Text]
        .into_iter()
        .map(|draw| Arc::new(ScalarUDF::from(Random::new(draw, None))))
        .collect();
    all.push(shorthand(
        "uniform",
        &[],
        Signature::variadic_any(Volatility::Volatile),
        uniform_type,
        uniform,
    ));
    all
}

/// A random function; `generator` is set when the physical rule has given the call its
/// partition's generator.
#[derive(Debug)]
struct Random {
    draw: Draw,
    aliases: Vec<String>,
    generator: Option<Mutex<XorShiftRandom>>,
    /// Draws of a call no partition rule reached, seeded on first use.
    fallback: Mutex<Option<XorShiftRandom>>,
    signature: Signature,
}

impl Random {
    fn new(draw: Draw, generator: Option<XorShiftRandom>) -> Random {
        Random {
            draw,
            aliases: if draw == Draw::Uniform {
                vec!["random".into()]
            } else {
                Vec::new()
            },
            generator: generator.map(Mutex::new),
            fallback: Mutex::new(None),
            signature: Signature::user_defined(Volatility::Volatile),
        }
    }
}

// One per name in the catalog; a partition's instance, with its own generator, is only
// itself.
impl PartialEq for Random {
    fn eq(&self, other: &Self) -> bool {
        self.draw == other.draw
            && match (&self.generator, &other.generator) {
                (None, None) => true,
                _ => std::ptr::eq(self, other),
            }
    }
}

impl Eq for Random {}

impl std::hash::Hash for Random {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.draw.hash(state);
    }
}

/// A call's instance with its own generator, seeded `seed + partition` as Spark seeds it.
pub fn seeded(draw: Draw, seed: i64, partition: usize) -> Arc<ScalarUDF> {
    let start = seed.wrapping_add(partition as i64);
    Arc::new(ScalarUDF::from(Random::new(
        draw,
        Some(XorShiftRandom::new(start)),
    )))
}

fn is_integer(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 | DataType::Null
    )
}

/// The literal seed of a call's arguments; NULL is seed 0, as on Spark.
pub fn seed_of(value: &ScalarValue) -> Option<i64> {
    match value {
        ScalarValue::Null => Some(0),
        v if v.is_null() => Some(0),
        ScalarValue::Int8(Some(v)) => Some(i64::from(*v)),
        ScalarValue::Int16(Some(v)) => Some(i64::from(*v)),
        ScalarValue::Int32(Some(v)) => Some(i64::from(*v)),
        ScalarValue::Int64(Some(v)) => Some(*v),
        _ => None,
    }
}

impl ScalarUDFImpl for Random {
    fn name(&self) -> &str {
        self.draw.name()
    }

    fn aliases(&self) -> &[String] {
        &self.aliases
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let name = self.name();
        let seed_at = self.draw.seed_at();
        if arg_types.len() > seed_at + 1 || (self.draw == Draw::Text && arg_types.is_empty()) {
            return plan_err!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] `{name}` takes {}, not {} argument(s)",
                if self.draw == Draw::Text {
                    "a length and an optional seed"
                } else {
                    "an optional seed"
                },
                arg_types.len()
            );
        }
        arg_types
            .iter()
            .map(|t| {
                if is_integer(t) {
                    Ok(if t == &DataType::Null { DataType::Int64 } else { t.clone() })
                } else {
                    plan_err!(
                        "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] `{name}` takes constant integers, not {}",
                        crate::spark_type_name(t)
                    )
                }
            })
            .collect()
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(match self.draw {
            Draw::Uniform | Draw::Gaussian => DataType::Float64,
            Draw::Text => DataType::Utf8,
        })
    }

    /// A call without a seed gets one now, so every partition seeds from the same number.
    fn simplify(&self, args: Vec<Expr>, _info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        if args.len() > self.draw.seed_at() || self.generator.is_some() {
            return Ok(ExprSimplifyResult::Original(args));
        }
        let mut args = args;
        args.push(lit(fresh_seed()));
        Ok(ExprSimplifyResult::Simplified(Expr::ScalarFunction(
            datafusion::logical_expr::expr::ScalarFunction::new_udf(
                Arc::new(ScalarUDF::from(Random::new(self.draw, None))),
                args,
            ),
        )))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let seed = match args.args.get(self.draw.seed_at()) {
            Some(ColumnarValue::Scalar(value)) => match seed_of(value) {
                Some(seed) => seed,
                None => return exec_err!("`{}` takes a constant integer seed", self.name()),
            },
            Some(ColumnarValue::Array(_)) => {
                return exec_err!(
                    "[DATATYPE_MISMATCH.NON_FOLDABLE_INPUT] `{}` takes a constant seed",
                    self.name()
                );
            }
            None => fresh_seed(),
        };
        let length = match self.draw {
            Draw::Text => match &args.args[0] {
                ColumnarValue::Scalar(value) => match seed_of(value) {
                    Some(n) if (0..=i64::from(i32::MAX)).contains(&n) => n as usize,
                    _ => {
                        return exec_err!(
                            "[INVALID_PARAMETER_VALUE] `randstr` takes a length from 0 to 2147483647"
                        );
                    }
                },
                ColumnarValue::Array(_) => {
                    return exec_err!("`randstr` takes a constant length");
                }
            },
            _ => 0,
        };
        let mut fallback;
        let mut own;
        let generator: &mut XorShiftRandom = match &self.generator {
            Some(generator) => {
                own = generator.lock().map_err(|_| {
                    datafusion::error::DataFusionError::Internal(
                        "a random generator's lock was poisoned".into(),
                    )
                })?;
                &mut own
            }
            None => {
                fallback = self.fallback.lock().map_err(|_| {
                    datafusion::error::DataFusionError::Internal(
                        "a random generator's lock was poisoned".into(),
                    )
                })?;
                fallback.get_or_insert_with(|| XorShiftRandom::new(seed))
            }
        };
        let column: ArrayRef = match self.draw {
            Draw::Uniform => Arc::new(Float64Array::from_iter_values(
                (0..rows).map(|_| generator.next_double()),
            )),
            Draw::Gaussian => Arc::new(Float64Array::from_iter_values(
                (0..rows).map(|_| generator.next_gaussian()),
            )),
            Draw::Text => Arc::new(StringArray::from_iter_values(
                (0..rows).map(|_| random_text(generator, length)),
            )),
        };
        Ok(ColumnarValue::Array(column))
    }
}

/// `randstr`'s characters: digits, then lower-case, then upper-case letters.
const ALPHABET: &[u8; 62] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

fn random_text(generator: &mut XorShiftRandom, length: usize) -> String {
    (0..length)
        .map(|_| {
            let at = (generator.next_int() % 62).unsigned_abs() as usize;
            char::from(ALPHABET[at])
        })
        .collect()
}

fn fresh_seed() -> i64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    hasher.finish() as i64
}

/// `uniform`'s result: the wider integer of two integer bounds, else the floating type.
fn uniform_type(types: &[DataType]) -> Result<DataType> {
    let (Some(min), Some(max)) = (types.first(), types.get(1)) else {
        return plan_err!(
            "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] `uniform` takes min, max and an optional seed"
        );
    };
    let rank = |t: &DataType| match t {
        DataType::Int8 | DataType::Int16 => Some(1),
        DataType::Int32 => Some(2),
        DataType::Int64 => Some(3),
        DataType::Float32 => Some(4),
        DataType::Float64 => Some(5),
        _ => None,
    };
    let (Some(a), Some(b)) = (rank(min), rank(max)) else {
        return plan_err!(
            "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] `uniform` takes integer or floating-point bounds"
        );
    };
    Ok(match (a, b) {
        (x, y) if x.max(y) == 5 => DataType::Float64,
        (x, y) if x.max(y) == 4 => DataType::Float32,
        (x, y) if x.max(y) == 3 => DataType::Int64,
        (x, y) if x.max(y) == 2 => DataType::Int32,
        _ => DataType::Int16,
    })
}

fn uniform(args: Vec<Expr>, info: &SimplifyContext) -> Result<Expr> {
    let count = args.len();
    let mut args = args.into_iter();
    let (Some(min), Some(max)) = (args.next(), args.next()) else {
        return plan_err!("`uniform` takes min, max and an optional seed, not {count} argument(s)");
    };
    let seed: Vec<Expr> = args.collect();
    let types = [info.get_data_type(&min)?, info.get_data_type(&max)?];
    let result = uniform_type(&types)?;
    let rand = Expr::ScalarFunction(datafusion::logical_expr::expr::ScalarFunction::new_udf(
        Arc::new(ScalarUDF::from(Random::new(Draw::Uniform, None))),
        seed,
    ));
    let low = cast(min, DataType::Float64);
    let high = cast(max, DataType::Float64);
    Ok(cast(low.clone() + (high - low) * rand, result))
}

#[cfg(test)]
mod tests {
    use super::*;

    // The leading digits of PySpark's documented examples, which come from Apache Spark.
    #[test]
    fn seeded_draws_are_sparks() {
        let mut uniform = XorShiftRandom::new(42);
        assert!(
            uniform
                .next_double()
                .to_string()
                .starts_with("0.619189370225")
        );
        assert!(
            uniform
                .next_double()
                .to_string()
                .starts_with("0.5096018842446")
        );
        let mut gaussian = XorShiftRandom::new(42);
        assert!(
            gaussian
                .next_gaussian()
                .to_string()
                .starts_with("2.384479054241")
        );
        assert!(
            gaussian
                .next_gaussian()
                .to_string()
                .starts_with("0.1920934041293")
        );
        let mut text = XorShiftRandom::new(3);
        assert_eq!(random_text(&mut text, 16), "nurJIpH4cmmMnsCG");
        assert_eq!(random_text(&mut text, 16), "fl9YtT5m01trZtIt");
        let mut bounded = XorShiftRandom::new(3);
        let draws: Vec<i64> = (0..3)
            .map(|_| (5.0 + 100.0 * bounded.next_double()) as i64)
            .collect();
        assert_eq!(draws, [30, 71, 99]);
    }
}
