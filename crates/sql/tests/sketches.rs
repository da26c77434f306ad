//! Spark's DataSketches functions through an Ember session: the answers of the examples in
//! Spark's own function documentation, merges of partial aggregates, and clear errors for
//! bad parameters and for bytes that are not sketches.

mod common;

use common::cells;
use ember_config::EmberConf;
use ember_sql::EmberSession;

async fn run(sql: &str) -> datafusion::error::Result<Vec<arrow::array::RecordBatch>> {
    let mut session = EmberSession::new(EmberConf::default()).expect("session");
    session
        .run_script(sql)
        .await
        .map_err(|e| datafusion::error::DataFusionError::External(Box::new(e)))
}

async fn error(sql: &str) -> String {
    match run(sql).await {
        Ok(_) => panic!("`{sql}` should fail"),
        Err(e) => e.to_string(),
    }
}

#[tokio::test]
async fn hll_sketches_count_distinct_values_and_union() {
    let got = cells(
        "select hll_sketch_estimate(hll_sketch_agg(col1)) as one, \
         hll_sketch_estimate(hll_sketch_agg(col1, 14)) as one_k14, \
         hll_sketch_estimate(hll_union(hll_sketch_agg(col1), hll_sketch_agg(col2))) as both, \
         hll_sketch_estimate(hll_sketch_agg(name)) as names \
         from (values (1, 4, 'a'), (1, 4, ''), (2, 5, 'b'), (2, 5, 'b'), (3, 6, null)) \
         as t(col1, col2, name)",
    )
    .await;
    // Empty strings are not counted, as in DataSketches Java.
    assert_eq!(got, ["3", "3", "6", "2"]);

    let got = cells(
        "select hll_sketch_estimate(hll_union_agg(s)) as u from \
         (select hll_sketch_agg(v) as s from (values (1), (2), (2), (3)) as a(v) \
          union all select hll_sketch_agg(v) as s from (values (4), (5), (5), (6)) as b(v))",
    )
    .await;
    assert_eq!(got, ["6"]);
}

#[tokio::test]
async fn theta_sketches_do_set_algebra() {
    let got = cells(
        "select theta_sketch_estimate(theta_union(theta_sketch_agg(v1), theta_sketch_agg(v2))) as u, \
         theta_sketch_estimate(theta_intersection(theta_sketch_agg(v1), theta_sketch_agg(v2))) as i, \
         theta_sketch_estimate(theta_difference(theta_sketch_agg(v1), theta_sketch_agg(v2))) as d, \
         theta_sketch_estimate(theta_sketch_agg(cast(f as double))) as floats \
         from (values (1, 2, 0.0), (2, 3, -0.0), (3, 4, 1.5), (4, 5, 1.5)) as t(v1, v2, f)",
    )
    .await;
    // 0.0 and -0.0 are one value, as DataSketches canonicalises them.
    assert_eq!(got, ["5", "3", "1", "2"]);

    let got = cells(
        "select theta_sketch_estimate(theta_union_agg(s)) as u, \
         theta_sketch_estimate(theta_intersection_agg(s)) as i from \
         (select theta_sketch_agg(v) as s from (values (1), (2), (2), (3)) as a(v) \
          union all select theta_sketch_agg(v) as s from (values (2), (3), (3), (4)) as b(v))",
    )
    .await;
    assert_eq!(got, ["4", "2"]);
}

#[tokio::test]
async fn partial_sketches_merge_exactly_below_the_nominal_size() {
    // 10,000 distinct values stay below lgNomEntries 14 (16,384 entries), where a theta sketch
    // is exact; grouping makes partial aggregates that merge.
    let got = cells(
        "select sum(e) as total, sum(n) as n from (select g, \
         theta_sketch_estimate(theta_sketch_agg(id, 14)) as e, \
         kll_sketch_get_n_bigint(kll_sketch_agg_bigint(id)) as n \
         from (select id, id % 3 as g from range(0, 10000)) group by g)",
    )
    .await;
    assert_eq!(got, ["10000", "10000"]);
}

#[tokio::test]
async fn tuple_sketches_keep_a_summary_per_key() {
    let got = cells(
        "select tuple_sketch_estimate_double(tuple_sketch_agg_double(k, s)) as e, \
         tuple_sketch_summary_double(tuple_sketch_agg_double(k, s)) as total, \
         tuple_sketch_summary_double(tuple_sketch_agg_double(k, s, 12, 'max'), 'max') as biggest, \
         tuple_sketch_summary_double(tuple_sketch_agg_double(k, s, 12, 'min'), 'sum') as mins, \
         tuple_sketch_summary_integer(tuple_sketch_agg_integer(k, cast(s as int))) as itotal, \
         tuple_sketch_theta_double(tuple_sketch_agg_double(k, s)) as theta \
         from (values (1, 1.0), (1, 2.0), (2, 3.0)) as t(k, s)",
    )
    .await;
    assert_eq!(got, ["2.0", "6.0", "3.0", "4.0", "6", "1.0"]);

    let got = cells(
        "select tuple_sketch_estimate_integer(tuple_union_integer(a, b)) as u, \
         tuple_sketch_summary_integer(tuple_intersection_integer(a, b)) as i_sum, \
         tuple_sketch_estimate_integer(tuple_difference_integer(a, b)) as d, \
         tuple_sketch_estimate_integer(tuple_union_theta_integer(a, t)) as ut, \
         tuple_sketch_summary_integer(tuple_intersection_theta_integer(a, t)) as it_sum, \
         tuple_sketch_estimate_integer(tuple_difference_theta_integer(a, t)) as dt \
         from (select tuple_sketch_agg_integer(k1, v1) as a, tuple_sketch_agg_integer(k2, v2) as b, \
               theta_sketch_agg(k2) as t \
               from (values (1, 10, 2, 20), (2, 20, 3, 30), (3, 30, 4, 40)) as x(k1, v1, k2, v2))",
    )
    .await;
    // Keys 2 and 3 are in both: their summaries add (20 + 20, 30 + 30); a Theta sketch's
    // keys add the sum mode's new summary, 0.
    assert_eq!(got, ["4.0", "100", "1.0", "4.0", "50", "1.0"]);
}

#[tokio::test]
async fn kll_sketches_answer_quantiles_and_ranks() {
    let got = cells(
        "select kll_sketch_get_quantile_bigint(kll_sketch_agg_bigint(v), 0.5) as q, \
         kll_sketch_get_rank_double(kll_sketch_agg_double(cast(v as double)), 3.0) as r, \
         kll_sketch_get_quantile_float(kll_sketch_agg_float(cast(v as float)), array(0.0, 1.0)) as qs, \
         kll_sketch_get_n_bigint(kll_sketch_merge_bigint(kll_sketch_agg_bigint(v), kll_sketch_agg_bigint(v))) as n, \
         kll_sketch_to_string_bigint(kll_sketch_agg_bigint(v)) like '%Kll Longs%' as text \
         from (values (1), (2), (3), (4), (5), (null)) as t(v)",
    )
    .await;
    assert_eq!(got, ["3", "0.6", "[1.0, 5.0]", "10", "true"]);
}

#[tokio::test]
async fn bad_parameters_and_foreign_bytes_are_clear_errors() {
    let e = error("select hll_sketch_agg(v, 30) from (values (1)) as t(v)").await;
    assert!(e.contains("HLL_INVALID_LG_K") && e.contains("30"), "{e}");
    let e = error("select theta_sketch_agg(v, 2) from (values (1)) as t(v)").await;
    assert!(e.contains("between 4 and 26"), "{e}");
    let e = error(
        "select tuple_sketch_agg_double(k, s, 12, 'median') from (values (1, 1.0)) as t(k, s)",
    )
    .await;
    assert!(e.contains("median"), "{e}");
    // A size that is not a constant is refused, not replaced by the default.
    let e = error(
        "select tuple_sketch_agg_double(k, s, cast(k as int), 'sum') from (values (12, 1.0)) as t(k, s)",
    )
    .await;
    assert!(e.contains("constant integer"), "{e}");
    let e = error("select hll_sketch_agg(v) from (values (1.5)) as t(v)").await;
    assert!(e.contains("hll_sketch_agg"), "{e}");
    for reader in [
        "hll_sketch_estimate",
        "theta_sketch_estimate",
        "tuple_sketch_estimate_double",
        "kll_sketch_get_n_bigint",
    ] {
        let e = error(&format!("select {reader}(X'00010203')")).await;
        assert!(e.contains("INVALID_INPUT_SKETCH_BUFFER"), "{reader}: {e}");
    }
    let e = error(
        "select hll_sketch_estimate(hll_union(hll_sketch_agg(v, 10), hll_sketch_agg(v, 12))) \
         from (values (1)) as t(v)",
    )
    .await;
    assert!(e.contains("HLL_UNION_DIFFERENT_LG_K"), "{e}");
}
