//! Spark's numeric semantics on DataFusion. Spark users read decimal results by their type and
//! last digit, and DataFusion's defaults differ from Spark's in both: it divides decimals to the
//! dividend's scale plus four and truncates, averages decimals by truncating, widens results
//! past 38 digits without Spark's scale adjustment, treats a decimal mixed with a double as a
//! decimal, and rounds doubles on their binary value. [`SparkNumericRule`] runs after
//! DataFusion's type coercion and rewrites those places to Spark's result types and HALF_UP
//! rounding, using the functions defined here where DataFusion's kernels cannot give Spark's
//! answer. Plans built with them travel to executors by name ([`scalar_function`],
//! [`aggregate_function`]).

mod average;
mod decimal;
mod decimal_arithmetic;
mod round;
mod rule;

use std::sync::Arc;

use datafusion::logical_expr::{AggregateUDF, ScalarUDF};

pub use decimal::{DecimalOp, spark_result_type};
pub use rule::SparkNumericRule;

/// One of this crate's scalar functions by name, for decoding plans sent to executors.
pub fn scalar_function(name: &str) -> Option<Arc<ScalarUDF>> {
    if let Some(op) = DecimalOp::from_function_name(name) {
        return Some(decimal_arithmetic::udf(op));
    }
    (name == round::NAME).then(round::udf)
}

/// One of this crate's aggregate functions by name, for decoding plans sent to executors.
pub fn aggregate_function(name: &str) -> Option<Arc<AggregateUDF>> {
    (name == average::NAME).then(average::udaf)
}
