//! `avg` of decimals as Spark computes it: the sum (`decimal(p+10,s)`) divided by the count as
//! a Spark decimal division, then cast to `decimal(p+4,s+4)`, each step rounding HALF_UP.
//! DataFusion truncates instead, so its last digit can be one lower.

use std::sync::{Arc, LazyLock};

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Decimal128Array, Int64Array};
use arrow::datatypes::{DataType, Decimal128Type, Field, FieldRef, Int64Type, i256};
use arrow::error::ArrowError;
use datafusion::common::{DataFusionError, Result, ScalarValue, exec_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, EmitTo, GroupsAccumulator, Signature, Volatility,
};
use datafusion_functions_aggregate_common::aggregate::groups_accumulator::accumulate::accumulate;

use crate::decimal::{DecimalFailure, DecimalOp, apply, bounded, fit, rescale};

pub const NAME: &str = "spark_avg";

static FUNCTION: LazyLock<Arc<AggregateUDF>> =
    LazyLock::new(|| Arc::new(AggregateUDF::from(SparkDecimalAvg::default())));

pub fn udaf() -> Arc<AggregateUDF> {
    FUNCTION.clone()
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct SparkDecimalAvg {
    signature: Signature,
}

impl Default for SparkDecimalAvg {
    fn default() -> Self {
        SparkDecimalAvg {
            signature: Signature::any(1, Volatility::Immutable),
        }
    }
}

/// The types one average goes through, fixed by its input's precision and scale.
#[derive(Debug, Clone, Copy)]
struct Shape {
    sum: (u8, i8),
    division_scale: i32,
    result: (u8, i8),
}

impl Shape {
    fn of(input: &DataType) -> Result<Shape> {
        let DataType::Decimal128(p, s) = input else {
            return exec_err!("{NAME} averages decimals, not {input}");
        };
        let (p, s) = (i32::from(*p), i32::from(*s));
        let sum = bounded(p + 10, s);
        let (_, division_scale) =
            crate::decimal::spark_result_type(DecimalOp::Divide, sum, (20, 0));
        Ok(Shape {
            sum,
            division_scale: i32::from(division_scale),
            result: bounded(p + 4, s + 4),
        })
    }

    fn average(&self, sum: i128, count: i64) -> Result<i128> {
        let sum_scale = i32::from(self.sum.1);
        let compute = || -> Result<i128, DecimalFailure> {
            fit(i256::from_i128(sum), self.sum.0)?;
            let quotient = apply(
                DecimalOp::Divide,
                i256::from_i128(sum),
                sum_scale,
                i256::from_i128(i128::from(count)),
                0,
                self.division_scale,
            )?;
            fit(
                rescale(quotient, self.division_scale, i32::from(self.result.1))?,
                self.result.0,
            )
        };
        compute().map_err(|_| overflow(self.result))
    }

    /// Adds one value; whether the sum still fits its precision is checked once, when the
    /// average is taken, not per row.
    fn add(&self, total: i128, value: i128) -> Result<i128> {
        total.checked_add(value).ok_or_else(|| overflow(self.sum))
    }
}

fn overflow((precision, scale): (u8, i8)) -> DataFusionError {
    DataFusionError::ArrowError(
        Box::new(ArrowError::ArithmeticOverflow(format!(
            "avg does not fit in decimal({precision},{scale})"
        ))),
        None,
    )
}

impl AggregateUDFImpl for SparkDecimalAvg {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        let Some(input) = arg_types.first() else {
            return exec_err!("{NAME} takes one argument");
        };
        let (p, s) = Shape::of(input)?.result;
        Ok(DataType::Decimal128(p, s))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let Some(input) = args.input_fields.first() else {
            return exec_err!("{NAME} takes one argument");
        };
        let (p, s) = Shape::of(input.data_type())?.sum;
        Ok(vec![
            Arc::new(Field::new(
                format!("{}[sum]", args.name),
                DataType::Decimal128(p, s),
                true,
            )),
            Arc::new(Field::new(
                format!("{}[count]", args.name),
                DataType::Int64,
                true,
            )),
        ])
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        if args.is_distinct {
            return exec_err!("{NAME} does not average distinct values");
        }
        Ok(Box::new(AvgAccumulator {
            shape: Shape::of(args.expr_fields[0].data_type())?,
            sum: 0,
            count: 0,
        }))
    }

    fn groups_accumulator_supported(&self, args: AccumulatorArgs) -> bool {
        !args.is_distinct
    }

    fn create_groups_accumulator(
        &self,
        args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(AvgGroups {
            shape: Shape::of(args.expr_fields[0].data_type())?,
            sums: Vec::new(),
            counts: Vec::new(),
        }))
    }
}

#[derive(Debug)]
struct AvgAccumulator {
    shape: Shape,
    sum: i128,
    count: i64,
}

impl AvgAccumulator {
    fn fold(&mut self, values: &Decimal128Array, sign: i128) -> Result<()> {
        for value in values.iter().flatten() {
            self.sum = self.shape.add(self.sum, sign * value)?;
            self.count += if sign > 0 { 1 } else { -1 };
        }
        Ok(())
    }
}

impl Accumulator for AvgAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.fold(values[0].as_primitive::<Decimal128Type>(), 1)
    }

    fn retract_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.fold(values[0].as_primitive::<Decimal128Type>(), -1)
    }

    fn supports_retract_batch(&self) -> bool {
        true
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        for sum in states[0].as_primitive::<Decimal128Type>().iter().flatten() {
            self.sum = self.shape.add(self.sum, sum)?;
        }
        self.count += states[1]
            .as_primitive::<Int64Type>()
            .iter()
            .flatten()
            .sum::<i64>();
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let (p, s) = self.shape.sum;
        Ok(vec![
            ScalarValue::Decimal128(Some(self.sum), p, s),
            ScalarValue::Int64(Some(self.count)),
        ])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let (p, s) = self.shape.result;
        let value = if self.count == 0 {
            None
        } else {
            Some(self.shape.average(self.sum, self.count)?)
        };
        Ok(ScalarValue::Decimal128(value, p, s))
    }

    fn size(&self) -> usize {
        size_of_val(self)
    }
}

#[derive(Debug)]
struct AvgGroups {
    shape: Shape,
    sums: Vec<i128>,
    counts: Vec<i64>,
}

impl AvgGroups {
    fn grow(&mut self, total_num_groups: usize) {
        self.sums.resize(total_num_groups, 0);
        self.counts.resize(total_num_groups, 0);
    }

    fn add_sums(
        &mut self,
        values: &Decimal128Array,
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        count_each: bool,
    ) -> Result<()> {
        // Branch-free per row; an overflow anywhere fails the batch afterwards.
        let mut overflowed = false;
        let (sums, counts) = (&mut self.sums, &mut self.counts);
        accumulate(group_indices, values, opt_filter, |group, value| {
            let (sum, over) = sums[group].overflowing_add(value);
            sums[group] = sum;
            overflowed |= over;
            counts[group] += i64::from(count_each);
        });
        if overflowed {
            return Err(overflow(self.shape.sum));
        }
        Ok(())
    }
}

impl GroupsAccumulator for AvgGroups {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.grow(total_num_groups);
        self.add_sums(
            values[0].as_primitive::<Decimal128Type>(),
            group_indices,
            opt_filter,
            true,
        )
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.grow(total_num_groups);
        self.add_sums(
            values[0].as_primitive::<Decimal128Type>(),
            group_indices,
            None,
            false,
        )?;
        let counts = &mut self.counts;
        accumulate(
            group_indices,
            values[1].as_primitive::<Int64Type>(),
            None,
            |group, count| counts[group] += count,
        );
        Ok(())
    }

    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        let values = values[0].as_primitive::<Decimal128Type>();
        let counted = |row: usize| {
            values.is_valid(row) && opt_filter.is_none_or(|f| f.is_valid(row) && f.value(row))
        };
        let (p, s) = self.shape.sum;
        let sums = (0..values.len())
            .map(|row| counted(row).then(|| values.value(row)))
            .collect::<Decimal128Array>()
            .with_precision_and_scale(p, s)?;
        let counts = (0..values.len())
            .map(|row| i64::from(counted(row)))
            .collect::<Int64Array>();
        Ok(vec![Arc::new(sums), Arc::new(counts)])
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let sums = emit_to.take_needed(&mut self.sums);
        let counts = emit_to.take_needed(&mut self.counts);
        let averages = sums
            .into_iter()
            .zip(counts)
            .map(|(sum, count)| {
                (count > 0)
                    .then(|| self.shape.average(sum, count))
                    .transpose()
            })
            .collect::<Result<Decimal128Array>>()?;
        let (p, s) = self.shape.result;
        Ok(Arc::new(averages.with_precision_and_scale(p, s)?))
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let (p, s) = self.shape.sum;
        let sums = Decimal128Array::from(emit_to.take_needed(&mut self.sums))
            .with_precision_and_scale(p, s)?;
        let counts = Int64Array::from(emit_to.take_needed(&mut self.counts));
        Ok(vec![Arc::new(sums), Arc::new(counts)])
    }

    fn size(&self) -> usize {
        self.sums.capacity() * size_of::<i128>() + self.counts.capacity() * size_of::<i64>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decimals(values: &[Option<i128>], p: u8, s: i8) -> ArrayRef {
        Arc::new(
            Decimal128Array::from(values.to_vec())
                .with_precision_and_scale(p, s)
                .expect("valid decimal type"),
        )
    }

    #[test]
    fn averages_round_half_up_to_sparks_type() -> Result<()> {
        let shape = Shape::of(&DataType::Decimal128(15, 2))?;
        assert_eq!(shape.result, (19, 6));
        let mut acc = AvgAccumulator {
            shape,
            sum: 0,
            count: 0,
        };
        // (0.01 + 0.01 + 0.00) / 3 = 0.006666…: Spark says 0.006667, truncation 0.006666.
        acc.update_batch(&[decimals(&[Some(1), Some(1), Some(0), None], 15, 2)])?;
        assert_eq!(acc.evaluate()?, ScalarValue::Decimal128(Some(6667), 19, 6));
        acc.retract_batch(&[decimals(&[Some(0)], 15, 2)])?;
        assert_eq!(acc.evaluate()?, ScalarValue::Decimal128(Some(10000), 19, 6));
        Ok(())
    }

    #[test]
    fn groups_merge_partial_states() -> Result<()> {
        let shape = Shape::of(&DataType::Decimal128(10, 0))?;
        let mut partial = AvgGroups {
            shape,
            sums: Vec::new(),
            counts: Vec::new(),
        };
        partial.update_batch(
            &[decimals(&[Some(1), Some(2), None, Some(-5)], 10, 0)],
            &[0, 0, 1, 2],
            None,
            3,
        )?;
        let state = partial.state(EmitTo::All)?;
        let mut fin = AvgGroups {
            shape,
            sums: Vec::new(),
            counts: Vec::new(),
        };
        fin.merge_batch(&state, &[0, 1, 2], 3)?;
        let out = fin.evaluate(EmitTo::All)?;
        let out = out.as_primitive::<Decimal128Type>();
        assert_eq!(out.value_as_string(0), "1.5000");
        assert!(out.is_null(1));
        assert_eq!(out.value_as_string(2), "-5.0000");
        Ok(())
    }
}
