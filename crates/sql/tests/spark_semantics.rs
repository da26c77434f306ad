//! Spark's semantics in SQL where DataFusion's defaults differ, through an Ember session.

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Int64Type};
use ember_config::EmberConf;
use ember_sql::EmberSession;

async fn rows(sql: &str) -> Vec<arrow::array::RecordBatch> {
    let mut session = EmberSession::new(EmberConf::default()).expect("session");
    session.run_script(sql).await.expect(sql)
}

#[tokio::test]
async fn decimals_widened_by_sparks_rules_still_compare() {
    // TPC-H Q11's HAVING at scale 10: the product's scale is adjusted past 38 digits, so the
    // two sides of `>` end up with different decimal types after Spark's rules.
    let batches = rows(
        "select sum(c * q) > sum(c * q) * 0.0000100000 as above \
         from (values (cast(1.25 as decimal(15,2)), cast(3 as decimal(15,2))), \
                      (cast(2.50 as decimal(15,2)), cast(4 as decimal(15,2)))) as t(c, q)",
    )
    .await;
    let above = batches[0].column(0).as_boolean();
    assert!(above.value(0));
}

#[tokio::test]
async fn order_by_puts_nulls_first_ascending_and_last_descending() {
    let first = |batches: &[arrow::array::RecordBatch]| {
        let column = batches[0].column(0).as_primitive::<Int64Type>();
        (0..column.len())
            .map(|i| column.is_valid(i).then(|| column.value(i)))
            .collect::<Vec<_>>()
    };
    let asc = rows("select v from (values (2), (null), (1)) as t(v) order by v").await;
    assert_eq!(first(&asc), [None, Some(1), Some(2)]);
    let desc = rows("select v from (values (2), (null), (1)) as t(v) order by v desc").await;
    assert_eq!(first(&desc), [Some(2), Some(1), None]);
}

#[tokio::test]
async fn ranking_functions_are_ints() {
    let batches = rows(
        "select row_number() over (order by v) as rn, rank() over (order by v) as rk, \
         dense_rank() over (order by v) as dr, ntile(2) over (order by v) as nt \
         from (values (1), (2)) as t(v)",
    )
    .await;
    for field in batches[0].schema().fields() {
        assert_eq!(field.data_type(), &DataType::Int32, "{}", field.name());
    }
}
