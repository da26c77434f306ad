//! Spark semantics on DataFusion, in one place for every front end. The Spark function
//! catalog ([`register_spark_functions`]) puts Spark's functions under Spark's names in a
//! session: DataFusion's built-ins, the Apache DataFusion project's `datafusion-spark`
//! functions where Spark's semantics differ, and Ember's own where neither has them.
//! [`SparkNumericRule`] runs after DataFusion's type coercion and rewrites plans to Spark's
//! numeric rules: decimal result types and HALF_UP rounding of `/`, `avg` and `round`,
//! decimals mixed with doubles computed as doubles, comparisons of decimals the rule widened,
//! and `int` results of the ranking window functions. Executors decode plans against the same
//! catalog ([`scalar_function`], [`aggregate_function`], [`window_function`]).

mod aggregates;
mod array;
mod array_nulls;
mod average;
mod bitmap;
mod catalog;
mod columnar;
mod csv_convert;
mod date_format;
mod date_pattern;
mod datetime;
mod decimal;
mod decimal_arithmetic;
mod element_at;
mod higher_order;
mod implicit_cast;
mod inferred_schema;
mod java_math;
mod java_text;
mod json;
mod json_convert;
mod json_text;
mod like_escape;
mod listagg;
mod make_timestamp;
mod map;
mod months_between;
mod number_format;
mod partition_id;
mod raise_error;
pub mod random;
mod regex;
mod reverse;
mod round;
mod row_function;
mod rule;
mod scaled_rounding;
mod shorthand;
mod sketch;
mod spark_cast;
mod spark_hash;
mod string_predicates;
mod text;
mod time_of_day;
mod timestamp_units;
mod try_arithmetic;
pub mod type_syntax;
mod types;
pub mod variant;
mod variant_schema;
mod xpath;
mod zone_shift;
mod zones;

use std::sync::Arc;

use datafusion::logical_expr::{AggregateUDF, ScalarUDF};

pub use catalog::{
    Origin, aggregate_function, configure_functions, higher_order_function, origin,
    register_spark_functions, scalar_function, window_function,
};
pub use date_pattern::{
    chrono_pattern_of, java_to_chrono, parse_timestamp_in_zone, try_parse_timestamp_in_zone,
};
pub use decimal::{DecimalOp, spark_result_type};
pub use java_text::{double_text, float_text};
pub use partition_id::SPARK_PARTITION_ID;
pub use rule::SparkNumericRule;
pub use spark_cast::SparkCastRule;
pub use types::{spark_sql_type_name, spark_type_name};

/// The functions the numeric rule plans with; they are in the catalog so executors find them.
fn internal_scalar_functions() -> Vec<Arc<ScalarUDF>> {
    DecimalOp::ALL
        .iter()
        .map(|op| decimal_arithmetic::udf(*op))
        .chain([
            round::udf(),
            like_escape::udf(),
            array_nulls::has_null_element(),
        ])
        .collect()
}

fn internal_aggregate_functions() -> Vec<Arc<AggregateUDF>> {
    vec![average::udaf()]
}
