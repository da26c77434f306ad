//! Spark's fixed-size bitmaps: 4,096 bytes holding 32,768 bit positions, bit `p` at byte
//! `p / 8`, bit `p % 8` (least significant first). `bitmap_construct_agg` sets the bits of
//! positions, `bitmap_or_agg`/`bitmap_and_agg` combine bitmaps, `bitmap_count` counts set bits.
//! `bitmap_bit_position` and `bitmap_bucket_number` come from `datafusion-spark`.

use std::sync::Arc;

use arrow::array::{Array, AsArray, Int64Array};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, ColumnarValue, ScalarFunctionArgs, ScalarUDF,
    ScalarUDFImpl, Signature, Volatility,
};

use crate::columnar::{all_scalar, finish};

/// Bytes in one of Spark's bitmaps.
const BITMAP_BYTES: usize = 4096;
/// Bit positions in one bitmap.
const BITMAP_BITS: i64 = (BITMAP_BYTES * 8) as i64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Combine {
    /// Sets the bits at the input positions.
    Construct,
    Or,
    /// A bitmap shorter than 4,096 bytes has no bits set past its end.
    And,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct BitmapAggregate {
    name: &'static str,
    combine: Combine,
    signature: Signature,
}

impl AggregateUDFImpl for BitmapAggregate {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let [t] = arg_types else {
            return plan_err!(
                "[WRONG_NUM_ARGS] `{}` takes 1 argument, not {}",
                self.name,
                arg_types.len()
            );
        };
        let wanted = match self.combine {
            Combine::Construct => DataType::Int64,
            Combine::Or | Combine::And => DataType::Binary,
        };
        let fits = match self.combine {
            Combine::Construct => t.is_integer() || t == &DataType::Null,
            Combine::Or | Combine::And => matches!(
                t,
                DataType::Binary | DataType::LargeBinary | DataType::BinaryView | DataType::Null
            ),
        };
        if !fits {
            return plan_err!(
                "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] `{}` takes {}, not {t}",
                self.name,
                if wanted == DataType::Int64 {
                    "a bit position (BIGINT)"
                } else {
                    "a bitmap (BINARY)"
                }
            );
        }
        Ok(vec![wanted])
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Binary)
    }

    fn is_nullable(&self) -> bool {
        false
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(
            format!("{}[bitmap]", args.name),
            DataType::Binary,
            false,
        ))])
    }

    fn accumulator(&self, _: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let fill = if self.combine == Combine::And {
            0xFF
        } else {
            0
        };
        Ok(Box::new(BitmapAccumulator {
            combine: self.combine,
            bitmap: vec![fill; BITMAP_BYTES],
        }))
    }
}

#[derive(Debug)]
struct BitmapAccumulator {
    combine: Combine,
    bitmap: Vec<u8>,
}

impl BitmapAccumulator {
    fn or(&mut self, other: &[u8]) {
        for (mine, theirs) in self.bitmap.iter_mut().zip(other) {
            *mine |= theirs;
        }
    }

    fn and(&mut self, other: &[u8]) {
        for (i, mine) in self.bitmap.iter_mut().enumerate() {
            *mine &= other.get(i).copied().unwrap_or(0);
        }
    }

    fn combine_bitmaps(&mut self, bitmaps: &dyn Array, and: bool) -> Result<()> {
        let bitmaps = cast(bitmaps, &DataType::Binary)?;
        let bitmaps = bitmaps.as_binary::<i32>();
        for i in 0..bitmaps.len() {
            if bitmaps.is_valid(i) {
                if and {
                    self.and(bitmaps.value(i));
                } else {
                    self.or(bitmaps.value(i));
                }
            }
        }
        Ok(())
    }
}

impl Accumulator for BitmapAccumulator {
    fn update_batch(&mut self, values: &[arrow::array::ArrayRef]) -> Result<()> {
        let Some(values) = values.first() else {
            return exec_err!("bitmap aggregates take one column");
        };
        match self.combine {
            Combine::Construct => {
                let positions = cast(values, &DataType::Int64)?;
                let positions: &Int64Array = positions.as_primitive();
                for position in positions.iter().flatten() {
                    if !(0..BITMAP_BITS).contains(&position) {
                        return exec_err!(
                            "[INVALID_BITMAP_POSITION] The 0-indexed bitmap position {position} is out of bounds. The bitmap has {BITMAP_BITS} bits ({BITMAP_BYTES} bytes)."
                        );
                    }
                    self.bitmap[position as usize / 8] |= 1 << (position % 8);
                }
                Ok(())
            }
            Combine::Or => self.combine_bitmaps(values, false),
            Combine::And => self.combine_bitmaps(values, true),
        }
    }

    fn merge_batch(&mut self, states: &[arrow::array::ArrayRef]) -> Result<()> {
        let Some(bitmaps) = states.first() else {
            return exec_err!("a bitmap aggregate's state is one bitmap");
        };
        self.combine_bitmaps(bitmaps, self.combine == Combine::And)
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![self.evaluate()?])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Binary(Some(self.bitmap.clone())))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.bitmap.capacity()
    }
}

/// `bitmap_count(bitmap)`: the number of bits set.
#[derive(Debug, PartialEq, Eq, Hash)]
struct BitmapCount {
    signature: Signature,
}

impl ScalarUDFImpl for BitmapCount {
    fn name(&self) -> &str {
        "bitmap_count"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [DataType::Binary | DataType::LargeBinary | DataType::BinaryView | DataType::Null] => {
                Ok(vec![DataType::Binary])
            }
            [t] => plan_err!(
                "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] `bitmap_count` takes a bitmap (BINARY), not {t}"
            ),
            _ => plan_err!(
                "[WRONG_NUM_ARGS] `bitmap_count` takes 1 argument, not {}",
                arg_types.len()
            ),
        }
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = all_scalar(&args.args);
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let Some(bitmaps) = arrays.first() else {
            return exec_err!("`bitmap_count` takes a bitmap");
        };
        let bitmaps = cast(bitmaps, &DataType::Binary)?;
        let counts: Int64Array = bitmaps
            .as_binary::<i32>()
            .iter()
            .map(|b| b.map(|b| b.iter().map(|byte| byte.count_ones() as i64).sum()))
            .collect();
        finish(Arc::new(counts), scalar)
    }
}

pub fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![Arc::new(ScalarUDF::from(BitmapCount {
        signature: Signature::user_defined(Volatility::Immutable),
    }))]
}

pub fn aggregate_functions() -> Vec<Arc<AggregateUDF>> {
    [
        ("bitmap_construct_agg", Combine::Construct),
        ("bitmap_or_agg", Combine::Or),
        ("bitmap_and_agg", Combine::And),
    ]
    .into_iter()
    .map(|(name, combine)| {
        Arc::new(AggregateUDF::from(BitmapAggregate {
            name,
            combine,
            signature: Signature::user_defined(Volatility::Immutable),
        }))
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{ArrayRef, BinaryArray};

    fn run(combine: Combine, input: ArrayRef) -> Vec<u8> {
        let fill = if combine == Combine::And { 0xFF } else { 0 };
        let mut acc = BitmapAccumulator {
            combine,
            bitmap: vec![fill; BITMAP_BYTES],
        };
        acc.update_batch(&[input]).unwrap();
        match acc.evaluate().unwrap() {
            ScalarValue::Binary(Some(b)) => b,
            other => panic!("not a bitmap: {other:?}"),
        }
    }

    #[test]
    fn positions_set_bits_least_significant_first() {
        let b = run(
            Combine::Construct,
            Arc::new(Int64Array::from(vec![
                Some(0),
                Some(1),
                None,
                Some(2),
                Some(9),
            ])),
        );
        assert_eq!(b.len(), BITMAP_BYTES);
        assert_eq!(&b[..3], &[0x07, 0x02, 0x00]);
    }

    #[test]
    fn out_of_range_positions_are_refused() {
        let mut acc = BitmapAccumulator {
            combine: Combine::Construct,
            bitmap: vec![0; BITMAP_BYTES],
        };
        let err = acc
            .update_batch(&[Arc::new(Int64Array::from(vec![BITMAP_BITS]))])
            .unwrap_err();
        assert!(err.to_string().contains("INVALID_BITMAP_POSITION"), "{err}");
    }

    #[test]
    fn and_treats_missing_bytes_as_unset_and_or_unions() {
        let input: ArrayRef = Arc::new(BinaryArray::from(vec![
            Some(&[0xF0u8][..]),
            None,
            Some(&[0x70u8, 0xFF][..]),
            Some(&[0x30u8][..]),
        ]));
        let and = run(Combine::And, input.clone());
        assert_eq!(&and[..2], &[0x30, 0x00]);
        let or = run(Combine::Or, input);
        assert_eq!(&or[..3], &[0xF0, 0xFF, 0x00]);
    }
}
