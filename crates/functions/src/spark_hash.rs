//! Spark's `hash(col, …)`: 32-bit Murmur3 (x86) with seed 42, each column's value hashed
//! with the running hash as its seed, as Spark's `Murmur3Hash` expression does, so values
//! hash to the same ints as on Spark (and the same buckets where a program buckets by them).
//!
//! Spark hashes `int`-sized values as one 4-byte block, `bigint`-sized ones (and timestamps,
//! small decimals' unscaled values, doubles' bits with -0.0 as 0.0) as two, strings and
//! binaries with its legacy tail (each trailing byte mixed as a signed int), and nested
//! values element by element; a null leaves the hash as it was.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Int32Array};
use arrow::datatypes::{
    DataType, Date32Type, Decimal128Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type,
    Int64Type, TimeUnit, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType,
};
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

const SEED: i32 = 42;

pub fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![Arc::new(ScalarUDF::from(SparkHash {
        signature: Signature::variadic_any(Volatility::Immutable),
    }))]
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct SparkHash {
    signature: Signature,
}

impl ScalarUDFImpl for SparkHash {
    fn name(&self) -> &str {
        "hash"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        if arg_types.is_empty() {
            return plan_err!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] `hash` requires at least one argument"
            );
        }
        for t in arg_types {
            if !hashable(t) {
                return plan_err!(
                    "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] `hash` cannot hash values of type {t}"
                );
            }
        }
        Ok(DataType::Int32)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let all_scalar = crate::columnar::all_scalar(&args.args);
        let mut hashes = vec![SEED; rows];
        for arg in &args.args {
            let array = arg.to_array(rows)?;
            for (row, hash) in hashes.iter_mut().enumerate() {
                *hash = hash_value(&array, row, *hash)?;
            }
        }
        crate::columnar::finish(Arc::new(Int32Array::from(hashes)), all_scalar)
    }
}

fn hashable(t: &DataType) -> bool {
    match t {
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
            hashable(f.data_type())
        }
        DataType::Struct(fields) => fields.iter().all(|f| hashable(f.data_type())),
        DataType::Map(entries, _) => hashable(entries.data_type()),
        DataType::Decimal128(p, _) => *p <= 38,
        _ => {
            t.is_primitive()
                || matches!(
                    t,
                    DataType::Null
                        | DataType::Boolean
                        | DataType::Utf8
                        | DataType::LargeUtf8
                        | DataType::Utf8View
                        | DataType::Binary
                        | DataType::LargeBinary
                        | DataType::BinaryView
                )
        }
    }
}

/// The hash of `array[row]` with `seed`; a null returns `seed`.
fn hash_value(array: &ArrayRef, row: usize, seed: i32) -> Result<i32> {
    if array.is_null(row) {
        return Ok(seed);
    }
    Ok(match array.data_type() {
        DataType::Boolean => hash_int(i32::from(array.as_boolean().value(row)), seed),
        DataType::Int8 => hash_int(i32::from(array.as_primitive::<Int8Type>().value(row)), seed),
        DataType::Int16 => hash_int(
            i32::from(array.as_primitive::<Int16Type>().value(row)),
            seed,
        ),
        DataType::Int32 => hash_int(array.as_primitive::<Int32Type>().value(row), seed),
        DataType::Date32 => hash_int(array.as_primitive::<Date32Type>().value(row), seed),
        DataType::Int64 => hash_long(array.as_primitive::<Int64Type>().value(row), seed),
        DataType::Float32 => {
            let v = array.as_primitive::<Float32Type>().value(row);
            let v = if v == 0.0 { 0.0f32 } else { v };
            hash_int(java_float_bits(v), seed)
        }
        DataType::Float64 => {
            let v = array.as_primitive::<Float64Type>().value(row);
            let v = if v == 0.0 { 0.0f64 } else { v };
            hash_long(java_double_bits(v), seed)
        }
        DataType::Timestamp(unit, _) => hash_long(timestamp_micros(array, row, unit), seed),
        DataType::Decimal128(precision, _) => {
            let unscaled = array.as_primitive::<Decimal128Type>().value(row);
            if *precision <= 18 {
                hash_long(unscaled as i64, seed)
            } else {
                hash_bytes(&java_big_integer_bytes(unscaled), seed)
            }
        }
        DataType::Utf8 => hash_bytes(array.as_string::<i32>().value(row).as_bytes(), seed),
        DataType::LargeUtf8 => hash_bytes(array.as_string::<i64>().value(row).as_bytes(), seed),
        DataType::Utf8View => hash_bytes(array.as_string_view().value(row).as_bytes(), seed),
        DataType::Binary => hash_bytes(array.as_binary::<i32>().value(row), seed),
        DataType::LargeBinary => hash_bytes(array.as_binary::<i64>().value(row), seed),
        DataType::BinaryView => hash_bytes(array.as_binary_view().value(row), seed),
        DataType::List(_) => fold(&array.as_list::<i32>().value(row), seed)?,
        DataType::LargeList(_) => fold(&array.as_list::<i64>().value(row), seed)?,
        DataType::FixedSizeList(..) => fold(&array.as_fixed_size_list().value(row), seed)?,
        DataType::Struct(_) => {
            let mut hash = seed;
            for column in array.as_struct().columns() {
                hash = hash_value(column, row, hash)?;
            }
            hash
        }
        DataType::Map(..) => {
            // Spark hashes a map's keys and values in turn, entry by entry.
            let entries = array.as_map().value(row);
            let mut hash = seed;
            for entry in 0..entries.len() {
                for column in entries.columns() {
                    hash = hash_value(column, entry, hash)?;
                }
            }
            hash
        }
        other => return exec_err!("`hash` cannot hash values of type {other}"),
    })
}

fn fold(elements: &ArrayRef, seed: i32) -> Result<i32> {
    let mut hash = seed;
    for i in 0..elements.len() {
        hash = hash_value(elements, i, hash)?;
    }
    Ok(hash)
}

fn timestamp_micros(array: &ArrayRef, row: usize, unit: &TimeUnit) -> i64 {
    match unit {
        TimeUnit::Second => array
            .as_primitive::<TimestampSecondType>()
            .value(row)
            .saturating_mul(1_000_000),
        TimeUnit::Millisecond => array
            .as_primitive::<TimestampMillisecondType>()
            .value(row)
            .saturating_mul(1_000),
        TimeUnit::Microsecond => array.as_primitive::<TimestampMicrosecondType>().value(row),
        TimeUnit::Nanosecond => array.as_primitive::<TimestampNanosecondType>().value(row) / 1_000,
    }
}

/// Java's `Float.floatToIntBits`: every NaN is the canonical one.
fn java_float_bits(v: f32) -> i32 {
    if v.is_nan() {
        0x7fc0_0000
    } else {
        v.to_bits() as i32
    }
}

/// Java's `Double.doubleToLongBits`.
fn java_double_bits(v: f64) -> i64 {
    if v.is_nan() {
        0x7ff8_0000_0000_0000
    } else {
        v.to_bits() as i64
    }
}

/// Java's `BigInteger.toByteArray`: the shortest big-endian two's complement.
fn java_big_integer_bytes(v: i128) -> Vec<u8> {
    let bytes = v.to_be_bytes();
    let mut start = 0;
    while start < bytes.len() - 1 {
        let (b, next) = (bytes[start], bytes[start + 1]);
        let redundant = (b == 0x00 && next & 0x80 == 0) || (b == 0xff && next & 0x80 != 0);
        if !redundant {
            break;
        }
        start += 1;
    }
    bytes[start..].to_vec()
}

fn mix_k1(k1: i32) -> i32 {
    (k1.wrapping_mul(0xcc9e_2d51_u32 as i32))
        .rotate_left(15)
        .wrapping_mul(0x1b87_3593)
}

fn mix_h1(h1: i32, k1: i32) -> i32 {
    (h1 ^ k1)
        .rotate_left(13)
        .wrapping_mul(5)
        .wrapping_add(0xe654_6b64_u32 as i32)
}

fn finish(h1: i32, length: i32) -> i32 {
    let mut h = (h1 ^ length) as u32;
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^= h >> 16;
    h as i32
}

fn hash_int(v: i32, seed: i32) -> i32 {
    finish(mix_h1(seed, mix_k1(v)), 4)
}

fn hash_long(v: i64, seed: i32) -> i32 {
    let low = v as i32;
    let high = (v >> 32) as i32;
    let h1 = mix_h1(mix_h1(seed, mix_k1(low)), mix_k1(high));
    finish(h1, 8)
}

/// Spark's `hashUnsafeBytes`: little-endian 4-byte blocks, then each remaining byte as a
/// signed int block of its own. For whole blocks it is MurmurHash3's x86 32-bit hash, as
/// Scala's `MurmurHash3.bytesHash` computes it.
pub(crate) fn hash_bytes(bytes: &[u8], seed: i32) -> i32 {
    let mut chunks = bytes.chunks_exact(4);
    let mut h1 = seed;
    for chunk in &mut chunks {
        let block = i32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        h1 = mix_h1(h1, mix_k1(block));
    }
    for b in chunks.remainder() {
        h1 = mix_h1(h1, mix_k1(i32::from(*b as i8)));
    }
    finish(h1, bytes.len() as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_hash_as_on_spark() {
        // Spark: SELECT hash('ABC'), hash('ABC', 'DEF'), hash(1)
        assert_eq!(hash_bytes(b"ABC", SEED), -757_602_832);
        assert_eq!(hash_bytes(b"DEF", hash_bytes(b"ABC", SEED)), 599_895_104);
        assert_eq!(hash_int(1, SEED), -559_580_957);
    }

    #[test]
    fn big_integers_are_javas_shortest_bytes() {
        assert_eq!(java_big_integer_bytes(0), [0]);
        assert_eq!(java_big_integer_bytes(127), [0x7f]);
        assert_eq!(java_big_integer_bytes(128), [0x00, 0x80]);
        assert_eq!(java_big_integer_bytes(-1), [0xff]);
        assert_eq!(java_big_integer_bytes(-129), [0xff, 0x7f]);
    }
}
