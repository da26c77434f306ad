//! The one Spark function catalog. Every Ember session registers it, so SQL text, the
//! DataFrame API of Spark Connect and `ember sql` resolve a Spark function name to the same
//! implementation, and executors decode plans against the same list.
//!
//! The catalog is DataFusion's built-ins, overlaid with `datafusion-spark`'s Spark-compatible
//! functions and then with Ember's own; Spark's names for DataFusion functions are added as
//! aliases.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use datafusion::common::Result;
use datafusion::execution::FunctionRegistry;
use datafusion::logical_expr::{AggregateUDF, HigherOrderUDF, ScalarUDF, WindowUDF};

use crate::implicit_cast::{SPARK_IMPLICIT_CASTS, with_implicit_casts};
use crate::{
    aggregates, array, array_nulls, bitmap, csv_convert, date_format, date_pattern, datetime,
    element_at, higher_order, java_math, json, json_convert, listagg, make_timestamp, map,
    months_between, number_format, partition_id, raise_error, random, regex, reverse,
    scaled_rounding, shorthand, sketch, spark_hash, string_predicates, text, time_of_day,
    timestamp_units, try_arithmetic, types, variant, variant_schema, xpath, zone_shift,
};

/// `datafusion-spark` functions Ember does not take: Ember's own analyzer rule gives `avg` and
/// `round` Spark's decimal semantics on DataFusion's faster kernels, SQL's `EXTRACT` keeps
/// DataFusion's `date_part`, and `bitmap_count` fails with an internal error on a null
/// argument (found by `crates/sql/tests/function_calls.rs`).
const NOT_TAKEN_FROM_DATAFUSION_SPARK: &[&str] = &["avg", "round", "date_part", "bitmap_count"];

/// Spark's names for DataFusion functions that do the same thing under another name.
const SPARK_ALIASES: &[(&str, &[&str])] = &[
    ("stddev_samp", &["stddev", "std"]),
    ("var_samp", &["variance"]),
    ("approx_distinct", &["approx_count_distinct"]),
    ("bool_and", &["every"]),
    ("bool_or", &["some", "any"]),
    ("signum", &["sign"]),
    ("nvl", &["ifnull"]),
    ("lower", &["lcase"]),
    ("upper", &["ucase"]),
    ("now", &["current_timestamp"]),
    ("collect_list", &["array_agg"]),
    ("ceil", &["ceiling"]),
    ("bitwise_not", &["~"]),
    // Spark's `array_remove` removes every occurrence.
    ("array_remove_all", &["array_remove"]),
];

struct Catalog {
    scalar: HashMap<String, Arc<ScalarUDF>>,
    aggregate: HashMap<String, Arc<AggregateUDF>>,
    window: HashMap<String, Arc<WindowUDF>>,
    /// Functions that take lambdas (`transform`, `aggregate`, …).
    higher_order: HashMap<String, Arc<HigherOrderUDF>>,
    /// Where each function the catalog adds or replaces comes from.
    origins: HashMap<String, Origin>,
}

/// Where a function of the catalog is implemented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// DataFusion's built-in, under Spark's name.
    DataFusion,
    /// The Apache DataFusion project's Spark-compatible functions.
    DataFusionSpark,
    /// Ember's own implementation.
    Ember,
}

/// The functions the catalog adds to (or changes in) a DataFusion session, by primary name.
static CATALOG: LazyLock<Catalog> = LazyLock::new(|| {
    let mut scalar: HashMap<String, Arc<ScalarUDF>> = HashMap::new();
    let mut aggregate: HashMap<String, Arc<AggregateUDF>> = HashMap::new();
    let mut window: HashMap<String, Arc<WindowUDF>> = HashMap::new();

    // DataFusion's built-ins by every name they answer to.
    let mut defaults = HashMap::new();
    for f in datafusion::execution::SessionStateDefaults::default_scalar_functions() {
        for name in f.aliases().iter().chain([&f.name().to_string()]) {
            defaults.insert(name.clone(), f.clone());
        }
    }
    let mut default_aggregates = HashMap::new();
    for f in datafusion::execution::SessionStateDefaults::default_aggregate_functions() {
        for name in f.aliases().iter().chain([&f.name().to_string()]) {
            default_aggregates.insert(name.clone(), f.clone());
        }
    }
    let mut origins = HashMap::new();
    for f in datafusion_spark::all_default_scalar_functions() {
        if !NOT_TAKEN_FROM_DATAFUSION_SPARK.contains(&f.name()) {
            origins.insert(f.name().to_string(), Origin::DataFusionSpark);
            scalar.insert(f.name().to_string(), f);
        }
    }
    for f in datafusion_spark::all_default_aggregate_functions() {
        if !NOT_TAKEN_FROM_DATAFUSION_SPARK.contains(&f.name()) {
            origins.insert(f.name().to_string(), Origin::DataFusionSpark);
            aggregate.insert(f.name().to_string(), f);
        }
    }
    for f in datafusion_spark::all_default_window_functions() {
        origins.insert(f.name().to_string(), Origin::DataFusionSpark);
        window.insert(f.name().to_string(), f);
    }

    // Spark casts these functions' arguments (a date string, a bigint) before the call.
    for (name, expects) in SPARK_IMPLICIT_CASTS {
        if let Some(f) = scalar.get(*name).or_else(|| defaults.get(*name)) {
            let wrapped = with_implicit_casts(f.clone(), expects);
            origins
                .entry(name.to_string())
                .or_insert(Origin::DataFusion);
            scalar.insert(name.to_string(), wrapped);
        }
    }

    // Spark's `reverse` reverses binaries too.
    if let Some(f) = scalar.get("reverse").or_else(|| defaults.get("reverse")) {
        let wrapped = reverse::udf(f.clone());
        origins.insert("reverse".to_string(), Origin::Ember);
        scalar.insert("reverse".to_string(), wrapped);
    }

    // Spark's `hour`, `minute` and `second` read TIME values as well as timestamps.
    for name in ["hour", "minute", "second"] {
        if let Some(f) = scalar.get(name) {
            let wrapped = time_of_day::reading_times_too(f.clone());
            scalar.insert(name.to_string(), wrapped);
        }
    }

    // `ceil`/`floor` with a scale, over the one-argument kernels just taken.
    let (ceil, floor) = (scalar.get("ceil").cloned(), scalar.get("floor").cloned());
    for f in scaled_rounding::functions(ceil, floor) {
        origins.insert(f.name().to_string(), Origin::Ember);
        scalar.insert(f.name().to_string(), f);
    }

    for f in datetime::functions()
        .into_iter()
        .chain(regex::functions())
        .chain(array::functions())
        .chain(types::functions())
        .chain(shorthand::functions())
        .chain(map::functions())
        .chain(raise_error::functions())
        .chain(sketch::functions())
        .chain(spark_hash::functions())
        .chain(text::functions())
        .chain(json::functions())
        .chain(date_pattern::functions())
        .chain(partition_id::functions())
        .chain(months_between::functions())
        .chain(bitmap::functions())
        .chain(element_at::functions())
        .chain(xpath::functions())
        .chain(time_of_day::functions())
        .chain(string_predicates::functions())
        .chain(json_convert::functions())
        .chain(csv_convert::functions())
        .chain(make_timestamp::functions())
        .chain(date_format::functions())
        .chain(random::functions())
        .chain(array_nulls::functions())
        .chain(number_format::functions())
        .chain(try_arithmetic::functions())
        .chain(zone_shift::functions())
        .chain(timestamp_units::functions())
        .chain(variant::functions())
        .chain(java_math::functions())
    {
        origins.insert(f.name().to_string(), Origin::Ember);
        scalar.insert(f.name().to_string(), f);
    }
    for f in crate::internal_scalar_functions() {
        origins.insert(f.name().to_string(), Origin::Ember);
        scalar.insert(f.name().to_string(), f);
    }
    for f in crate::internal_aggregate_functions()
        .into_iter()
        .chain(aggregates::functions())
        .chain(sketch::aggregate_functions())
        .chain(bitmap::aggregate_functions())
        .chain(listagg::aggregate_functions())
        .chain(variant_schema::aggregate_functions())
    {
        origins.insert(f.name().to_string(), Origin::Ember);
        aggregate.insert(f.name().to_string(), f);
    }
    // Spark's extra names, on whichever implementation the name resolved to above.
    for (name, aliases) in SPARK_ALIASES {
        origins
            .entry(name.to_string())
            .or_insert(Origin::DataFusion);
        let aliases = aliases.iter().copied();
        if let Some(f) = scalar.get(*name).or_else(|| defaults.get(*name)) {
            let f = f.as_ref().clone().with_aliases(aliases);
            scalar.insert(f.name().to_string(), Arc::new(f));
        } else if let Some(f) = aggregate
            .get(*name)
            .or_else(|| default_aggregates.get(*name))
        {
            let f = f.as_ref().clone().with_aliases(aliases);
            aggregate.insert(f.name().to_string(), Arc::new(f));
        }
    }
    let mut higher_order = HashMap::new();
    for f in higher_order::functions() {
        origins.insert(f.name().to_string(), Origin::Ember);
        higher_order.insert(f.name().to_string(), f);
    }
    Catalog {
        scalar,
        aggregate,
        window,
        higher_order,
        origins,
    }
});

/// Registers the Spark function catalog in a session (a `SessionContext`, or an executor's).
pub fn register_spark_functions(registry: &mut dyn FunctionRegistry) -> Result<()> {
    for f in CATALOG.scalar.values() {
        registry.register_udf(f.clone())?;
    }
    for f in CATALOG.aggregate.values() {
        registry.register_udaf(f.clone())?;
    }
    for f in CATALOG.window.values() {
        registry.register_udwf(f.clone())?;
    }
    for f in CATALOG.higher_order.values() {
        registry.register_higher_order_function(f.clone())?;
    }
    Ok(())
}

/// Remakes the session's functions that read a setting when they are made (DataFusion's
/// `to_timestamp` family takes the session time zone), so they follow the session's
/// settings as they are now. Call it after changing settings, and on executors after
/// applying the driver's.
pub fn configure_functions(ctx: &datafusion::prelude::SessionContext) {
    let state = ctx.state();
    for function in state.scalar_functions().values() {
        if let Some(updated) = function.inner().with_updated_config(state.config_options()) {
            ctx.register_udf(updated);
        }
    }
}

/// A scalar function of the catalog by its primary name, for decoding plans on executors.
pub fn scalar_function(name: &str) -> Option<Arc<ScalarUDF>> {
    CATALOG.scalar.get(name).cloned()
}

/// A function of the catalog that takes lambdas, by its primary name.
pub fn higher_order_function(name: &str) -> Option<Arc<HigherOrderUDF>> {
    CATALOG.higher_order.get(name).cloned()
}

/// An aggregate function of the catalog by its primary name.
pub fn aggregate_function(name: &str) -> Option<Arc<AggregateUDF>> {
    CATALOG.aggregate.get(name).cloned()
}

/// Where a function the catalog adds or replaces is implemented; `None` for DataFusion's
/// built-ins the catalog leaves as they are.
pub fn origin(name: &str) -> Option<Origin> {
    CATALOG.origins.get(name).copied()
}

/// A window function of the catalog by its primary name.
pub fn window_function(name: &str) -> Option<Arc<WindowUDF>> {
    CATALOG.window.get(name).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::prelude::SessionContext;

    #[test]
    fn spark_names_resolve_in_a_session() {
        let mut ctx = SessionContext::new();
        register_spark_functions(&mut ctx).unwrap();
        for name in [
            "split",
            "regexp_extract",
            "year",
            "dayofmonth",
            "shiftleft",
            "std",
            "sign",
        ] {
            let found = ctx.udf(name).is_ok() || ctx.udaf(name).is_ok();
            assert!(found, "{name} is not registered");
        }
        // datafusion-spark's Spark semantics win over DataFusion's same-named functions…
        assert!(std::ptr::eq(
            ctx.udf("concat").unwrap().inner().as_ref() as *const _ as *const u8,
            scalar_function("concat").unwrap().inner().as_ref() as *const _ as *const u8,
        ));
        // …except where Ember keeps DataFusion's kernel under its own rule.
        assert!(scalar_function("round").is_none());
    }
}
