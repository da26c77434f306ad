//! Spark's aggregate functions that DataFusion lacks: `count_if`, `max_by`/`min_by`,
//! `skewness`/`kurtosis` (Spark's central-moment aggregates), `mode` and `product`.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{DataType, Field, FieldRef, Float64Type, Int64Type};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::functions_aggregate::count::count_udaf;
use datafusion::logical_expr::expr::AggregateFunction;
use datafusion::logical_expr::function::{
    AccumulatorArgs, AggregateFunctionSimplification, StateFieldsArgs,
};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Expr, Signature, TypeSignature, Volatility, lit,
    when,
};
use datafusion::physical_expr::expressions::Literal;

pub fn functions() -> Vec<Arc<AggregateUDF>> {
    vec![
        Arc::new(AggregateUDF::from(CountIf::new())),
        Arc::new(AggregateUDF::from(ExtremeBy::new("max_by", Extreme::Max))),
        Arc::new(AggregateUDF::from(ExtremeBy::new("min_by", Extreme::Min))),
        Arc::new(AggregateUDF::from(Moment::new(
            "skewness",
            Statistic::Skewness,
        ))),
        Arc::new(AggregateUDF::from(Moment::new(
            "kurtosis",
            Statistic::Kurtosis,
        ))),
        Arc::new(AggregateUDF::from(Mode::new())),
        Arc::new(AggregateUDF::from(Product::new())),
    ]
}

/// `count_if(p)`: the number of rows where `p` is true; it becomes `count(CASE WHEN p THEN 1
/// END)` before planning, so it runs on `count`'s kernels.
#[derive(Debug, PartialEq, Eq, Hash)]
struct CountIf {
    signature: Signature,
}

impl CountIf {
    fn new() -> Self {
        Self {
            signature: Signature::exact(vec![DataType::Boolean], Volatility::Immutable),
        }
    }
}

impl AggregateUDFImpl for CountIf {
    fn name(&self) -> &str {
        "count_if"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn is_nullable(&self) -> bool {
        false
    }

    fn accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        exec_err!("count_if reached execution without being rewritten to count")
    }

    fn simplify(&self) -> Option<AggregateFunctionSimplification> {
        Some(Box::new(|function: AggregateFunction, _| {
            let mut params = function.params;
            let Some(predicate) = params.args.pop() else {
                return plan_err!("count_if takes one argument");
            };
            params.args = vec![when(predicate, lit(1i32)).end()?];
            Ok(Expr::AggregateFunction(AggregateFunction {
                func: count_udaf(),
                params,
            }))
        }))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Extreme {
    Max,
    Min,
}

/// `max_by(x, ord [, k])` / `min_by(x, ord [, k])`: the `x` of the row with the largest
/// (smallest) non-null `ord`, or with `k` the array of the `x`s of the `k` best rows, best
/// first; on ties the row seen first wins, as on Spark.
#[derive(Debug, PartialEq, Eq, Hash)]
struct ExtremeBy {
    name: &'static str,
    extreme: Extreme,
    signature: Signature,
}

impl ExtremeBy {
    fn new(name: &'static str, extreme: Extreme) -> Self {
        Self {
            name,
            extreme,
            signature: Signature::one_of(
                vec![TypeSignature::Any(2), TypeSignature::Any(3)],
                Volatility::Immutable,
            ),
        }
    }
}

impl AggregateUDFImpl for ExtremeBy {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match arg_types {
            [value, _] => Ok(value.clone()),
            [value, _, _] => Ok(DataType::List(Arc::new(Field::new_list_field(
                value.clone(),
                true,
            )))),
            _ => plan_err!(
                "{} takes a value, an ordering and an optional count",
                self.name
            ),
        }
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let (Some(value), Some(ord)) = (args.input_fields.first(), args.input_fields.get(1)) else {
            return plan_err!("{} takes a value and an ordering", self.name);
        };
        let list = |part: &str, t: &DataType| {
            Arc::new(Field::new(
                format!("{}[{part}]", args.name),
                DataType::List(Arc::new(Field::new_list_field(t.clone(), true))),
                true,
            ))
        };
        Ok(vec![
            list("values", value.data_type()),
            list("ords", ord.data_type()),
        ])
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let (Some(value), Some(ord)) = (args.expr_fields.first(), args.expr_fields.get(1)) else {
            return plan_err!("{} takes a value and an ordering", self.name);
        };
        let k = match args.exprs.get(2) {
            None => None,
            Some(expr) => {
                let literal = expr
                    .downcast_ref::<Literal>()
                    .and_then(|l| match *l.value() {
                        ScalarValue::Int8(Some(v)) => Some(v as i64),
                        ScalarValue::Int16(Some(v)) => Some(v as i64),
                        ScalarValue::Int32(Some(v)) => Some(v as i64),
                        ScalarValue::Int64(Some(v)) => Some(v),
                        _ => None,
                    });
                match literal {
                    Some(k) if k > 0 && k <= 100_000 => Some(k as usize),
                    _ => {
                        return plan_err!(
                            "the third argument of {} must be a constant integer from 1 to 100000",
                            self.name
                        );
                    }
                }
            }
        };
        Ok(Box::new(ExtremeByAccumulator {
            extreme: self.extreme,
            k,
            value_type: value.data_type().clone(),
            ord_type: ord.data_type().clone(),
            best: Vec::new(),
        }))
    }
}

#[derive(Debug)]
struct ExtremeByAccumulator {
    extreme: Extreme,
    /// `None` for the one-value form.
    k: Option<usize>,
    value_type: DataType,
    ord_type: DataType,
    /// The best rows so far as (ord, value), best first.
    best: Vec<(ScalarValue, ScalarValue)>,
}

impl ExtremeByAccumulator {
    fn beats(&self, a: &ScalarValue, b: &ScalarValue) -> bool {
        match self.extreme {
            Extreme::Max => a > b,
            Extreme::Min => a < b,
        }
    }

    fn offer(&mut self, values: &ArrayRef, ords: &ArrayRef) -> Result<()> {
        let keep = self.k.unwrap_or(1);
        for row in 0..ords.len() {
            if ords.is_null(row) {
                continue;
            }
            let ord = ScalarValue::try_from_array(ords, row)?;
            if self.best.len() == keep
                && !self
                    .best
                    .last()
                    .is_some_and(|(worst, _)| self.beats(&ord, worst))
            {
                continue;
            }
            // After every entry at least as good, so earlier rows win ties.
            let at = self
                .best
                .iter()
                .position(|(o, _)| self.beats(&ord, o))
                .unwrap_or(self.best.len());
            self.best
                .insert(at, (ord, ScalarValue::try_from_array(values, row)?));
            self.best.truncate(keep);
        }
        Ok(())
    }
}

impl Accumulator for ExtremeByAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let (Some(value), Some(ord)) = (values.first(), values.get(1)) else {
            return exec_err!("max_by/min_by take a value and an ordering");
        };
        self.offer(value, ord)
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let [values, ords] = states else {
            return exec_err!("max_by/min_by state has two parts");
        };
        let (values, ords) = (values.as_list::<i32>(), ords.as_list::<i32>());
        for row in 0..values.len() {
            if values.is_valid(row) && ords.is_valid(row) {
                self.offer(&values.value(row), &ords.value(row))?;
            }
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let (ords, values): (Vec<ScalarValue>, Vec<ScalarValue>) =
            self.best.iter().cloned().unzip();
        Ok(vec![
            ScalarValue::List(ScalarValue::new_list_nullable(&values, &self.value_type)),
            ScalarValue::List(ScalarValue::new_list_nullable(&ords, &self.ord_type)),
        ])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        match self.k {
            None => match self.best.first() {
                Some((_, value)) => Ok(value.clone()),
                None => ScalarValue::try_from(&self.value_type),
            },
            Some(_) => {
                let values: Vec<ScalarValue> = self.best.iter().map(|(_, v)| v.clone()).collect();
                Ok(ScalarValue::List(ScalarValue::new_list_nullable(
                    &values,
                    &self.value_type,
                )))
            }
        }
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self)
            + self
                .best
                .iter()
                .map(|(o, v)| o.size() + v.size())
                .sum::<usize>()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Statistic {
    Skewness,
    Kurtosis,
}

/// Spark's `skewness` and `kurtosis` (population moments, excess kurtosis), from the count,
/// mean and central moments 2–4, merged with the pairwise update Spark's
/// `CentralMomentAgg` uses, so partial aggregates combine exactly.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Moment {
    name: &'static str,
    statistic: Statistic,
    signature: Signature,
}

impl Moment {
    fn new(name: &'static str, statistic: Statistic) -> Self {
        Self {
            name,
            statistic,
            signature: Signature::uniform(1, vec![DataType::Float64], Volatility::Immutable),
        }
    }
}

const MOMENT_STATE: [&str; 5] = ["n", "mean", "m2", "m3", "m4"];

impl AggregateUDFImpl for Moment {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(MOMENT_STATE
            .iter()
            .map(|part| {
                Arc::new(Field::new(
                    format!("{}[{part}]", args.name),
                    DataType::Float64,
                    false,
                ))
            })
            .collect())
    }

    fn accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(MomentAccumulator {
            statistic: self.statistic,
            moments: Moments::default(),
        }))
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct Moments {
    n: f64,
    mean: f64,
    m2: f64,
    m3: f64,
    m4: f64,
}

impl Moments {
    fn merge(self, b: Moments) -> Moments {
        let a = self;
        if a.n == 0.0 {
            return b;
        }
        if b.n == 0.0 {
            return a;
        }
        let n = a.n + b.n;
        let delta = b.mean - a.mean;
        let delta_n = delta / n;
        let mean = a.mean + delta_n * b.n;
        let m2 = a.m2 + b.m2 + delta * delta_n * a.n * b.n;
        let m3 = a.m3
            + b.m3
            + delta * delta_n * delta_n * a.n * b.n * (a.n - b.n)
            + 3.0 * delta_n * (a.n * b.m2 - b.n * a.m2);
        let m4 = a.m4
            + b.m4
            + delta * delta_n * delta_n * delta_n * a.n * b.n * (a.n * a.n - a.n * b.n + b.n * b.n)
            + 6.0 * delta_n * delta_n * (a.n * a.n * b.m2 + b.n * b.n * a.m2)
            + 4.0 * delta_n * (a.n * b.m3 - b.n * a.m3);
        Moments {
            n,
            mean,
            m2,
            m3,
            m4,
        }
    }

    fn of(value: f64) -> Moments {
        Moments {
            n: 1.0,
            mean: value,
            ..Moments::default()
        }
    }
}

#[derive(Debug)]
struct MomentAccumulator {
    statistic: Statistic,
    moments: Moments,
}

impl Accumulator for MomentAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let Some(values) = values.first() else {
            return exec_err!("skewness/kurtosis take one argument");
        };
        for value in values.as_primitive::<Float64Type>().iter().flatten() {
            self.moments = self.moments.merge(Moments::of(value));
        }
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let [n, mean, m2, m3, m4] = states else {
            return exec_err!("skewness/kurtosis state has five parts");
        };
        let part = |a: &ArrayRef| a.as_primitive::<Float64Type>().clone();
        let (n, mean, m2, m3, m4) = (part(n), part(mean), part(m2), part(m3), part(m4));
        for row in 0..n.len() {
            self.moments = self.moments.merge(Moments {
                n: n.value(row),
                mean: mean.value(row),
                m2: m2.value(row),
                m3: m3.value(row),
                m4: m4.value(row),
            });
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let m = self.moments;
        Ok([m.n, m.mean, m.m2, m.m3, m.m4]
            .into_iter()
            .map(|v| ScalarValue::Float64(Some(v)))
            .collect())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let m = self.moments;
        // Spark answers NULL for no rows and for a zero variance (it would divide by zero).
        if m.n == 0.0 || m.m2 == 0.0 {
            return Ok(ScalarValue::Float64(None));
        }
        let value = match self.statistic {
            Statistic::Skewness => m.n.sqrt() * m.m3 / (m.m2 * m.m2.sqrt()),
            Statistic::Kurtosis => m.n * m.m4 / (m.m2 * m.m2) - 3.0,
        };
        Ok(ScalarValue::Float64(Some(value)))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self)
    }
}

/// `mode(x [, deterministic])`: the most frequent non-null value; of equally frequent values
/// the smallest, which is what Spark gives when asked to be deterministic.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Mode {
    signature: Signature,
}

impl Mode {
    fn new() -> Self {
        Self {
            signature: Signature::one_of(
                vec![TypeSignature::Any(1), TypeSignature::Any(2)],
                Volatility::Immutable,
            ),
        }
    }
}

impl AggregateUDFImpl for Mode {
    fn name(&self) -> &str {
        "mode"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match arg_types.first() {
            Some(t) => Ok(t.clone()),
            None => plan_err!("mode takes a column and an optional `deterministic` flag"),
        }
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let Some(value) = args.input_fields.first() else {
            return plan_err!("mode takes a column");
        };
        let item = Arc::new(Field::new_list_field(value.data_type().clone(), true));
        Ok(vec![
            Arc::new(Field::new(
                format!("{}[values]", args.name),
                DataType::List(item),
                true,
            )),
            Arc::new(Field::new(
                format!("{}[counts]", args.name),
                DataType::List(Arc::new(Field::new_list_field(DataType::Int64, true))),
                true,
            )),
        ])
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let Some(value) = args.expr_fields.first() else {
            return plan_err!("mode takes a column");
        };
        Ok(Box::new(ModeAccumulator {
            data_type: value.data_type().clone(),
            counts: HashMap::new(),
        }))
    }
}

#[derive(Debug)]
struct ModeAccumulator {
    data_type: DataType,
    counts: HashMap<ScalarValue, i64>,
}

impl Accumulator for ModeAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let Some(values) = values.first() else {
            return exec_err!("mode takes a column");
        };
        for row in 0..values.len() {
            if values.is_valid(row) {
                *self
                    .counts
                    .entry(ScalarValue::try_from_array(values, row)?)
                    .or_default() += 1;
            }
        }
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let [values, counts] = states else {
            return exec_err!("mode state has two parts");
        };
        let (values, counts) = (values.as_list::<i32>(), counts.as_list::<i32>());
        for row in 0..values.len() {
            if values.is_null(row) {
                continue;
            }
            let (v, c) = (values.value(row), counts.value(row));
            let c = c.as_primitive::<Int64Type>();
            for i in 0..v.len() {
                *self
                    .counts
                    .entry(ScalarValue::try_from_array(&v, i)?)
                    .or_default() += c.value(i);
            }
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let (values, counts): (Vec<ScalarValue>, Vec<ScalarValue>) = self
            .counts
            .iter()
            .map(|(v, c)| (v.clone(), ScalarValue::Int64(Some(*c))))
            .unzip();
        Ok(vec![
            ScalarValue::List(ScalarValue::new_list_nullable(&values, &self.data_type)),
            ScalarValue::List(ScalarValue::new_list_nullable(&counts, &DataType::Int64)),
        ])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let best = self.counts.iter().max_by(|(va, ca), (vb, cb)| {
            ca.cmp(cb).then_with(|| {
                // Fewer is worse; among equals the smaller value wins, so it compares greater.
                vb.partial_cmp(va).unwrap_or(std::cmp::Ordering::Equal)
            })
        });
        match best {
            Some((value, _)) => Ok(value.clone()),
            None => ScalarValue::try_from(&self.data_type),
        }
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self)
            + self
                .counts
                .keys()
                .map(|k| k.size() + std::mem::size_of::<i64>())
                .sum::<usize>()
    }
}

/// `product(x)`: the product of the non-null values as a double; NULL without any.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Product {
    signature: Signature,
}

impl Product {
    fn new() -> Self {
        Self {
            signature: Signature::uniform(1, vec![DataType::Float64], Volatility::Immutable),
        }
    }
}

impl AggregateUDFImpl for Product {
    fn name(&self) -> &str {
        "product"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(
            format!("{}[product]", args.name),
            DataType::Float64,
            true,
        ))])
    }

    fn accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(ProductAccumulator { product: None }))
    }
}

#[derive(Debug)]
struct ProductAccumulator {
    product: Option<f64>,
}

impl Accumulator for ProductAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let Some(values) = values.first() else {
            return exec_err!("product takes one argument");
        };
        for value in values.as_primitive::<Float64Type>().iter().flatten() {
            self.product = Some(self.product.unwrap_or(1.0) * value);
        }
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        self.update_batch(states)
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![ScalarValue::Float64(self.product)])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Float64(self.product))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moments(values: &[f64]) -> Moments {
        values
            .iter()
            .fold(Moments::default(), |m, v| m.merge(Moments::of(*v)))
    }

    #[test]
    fn moments_merge_as_if_computed_in_one_pass() {
        let all = moments(&[1.0, 1.0, 2.0, 7.5, -3.0]);
        let split = moments(&[1.0, 1.0]).merge(moments(&[2.0, 7.5, -3.0]));
        for (a, b) in [
            (all.n, split.n),
            (all.mean, split.mean),
            (all.m2, split.m2),
            (all.m3, split.m3),
            (all.m4, split.m4),
        ] {
            assert!((a - b).abs() < 1e-9, "{a} != {b}");
        }
    }

    #[test]
    fn kurtosis_and_skewness_follow_spark() {
        let mut kurtosis = MomentAccumulator {
            statistic: Statistic::Kurtosis,
            moments: moments(&[1.0, 1.0, 2.0]),
        };
        assert_eq!(
            kurtosis.evaluate().unwrap(),
            ScalarValue::Float64(Some(-1.5))
        );
        let mut skewness = MomentAccumulator {
            statistic: Statistic::Skewness,
            moments: moments(&[1.0, 1.0, 2.0]),
        };
        let ScalarValue::Float64(Some(s)) = skewness.evaluate().unwrap() else {
            panic!("skewness is a double");
        };
        assert!((s - std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-12);
        let mut constant = MomentAccumulator {
            statistic: Statistic::Skewness,
            moments: moments(&[4.0, 4.0]),
        };
        assert_eq!(constant.evaluate().unwrap(), ScalarValue::Float64(None));
    }
}
