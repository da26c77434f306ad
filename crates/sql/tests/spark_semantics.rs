//! Spark's semantics in SQL where DataFusion's defaults differ, through an Ember session.

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Int32Type, Int64Type};
use ember_config::EmberConf;
use ember_sql::EmberSession;

mod common;

use common::{cells, rows};

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
        // Spark types the integer literals of a VALUES table INT.
        let column = batches[0].column(0).as_primitive::<Int32Type>();
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

#[tokio::test]
async fn date_and_integer_functions_cast_their_arguments_as_spark_does() {
    let got = cells(
        "select add_months('2015-04-08', 1) as a, last_day('2015-02-10') as b, \
         factorial(cast(5 as bigint)) as c, hour('2015-04-08 13:08:15') as d, \
         next_day('2015-01-14', 'TU') as e",
    )
    .await;
    assert_eq!(got, ["2015-05-08", "2015-02-28", "120", "13", "2015-01-20"]);
}

#[tokio::test]
async fn shorthand_functions_expand_to_what_spark_computes() {
    let got = cells(
        "select zeroifnull(cast(null as int)) as z, nullifzero(0) as n, \
         equal_null(cast(null as int), null) as eq, positive(-3) as p, \
         float('NaN') as f, int('42') as i, current_database() as db, \
         date_from_unix_date(1) as d, timestamp_seconds(1230219000) as ts",
    )
    .await;
    assert_eq!(
        got,
        [
            "0",
            "",
            "true",
            "-3",
            "NaN",
            "42",
            "default",
            "1970-01-02",
            "2008-12-25T15:30:00Z"
        ]
    );
}

#[tokio::test]
async fn sparks_extra_aggregates() {
    let got = cells(
        "select count_if(v % 2 = 0) as evens, max_by(k, v) as top, min_by(k, v) as bottom, \
         kurtosis(w) as kurt, mode(w) as common \
         from (values ('a', 1, 1.0), ('b', 4, 1.0), ('c', null, 2.0), ('d', 2, 2.0), \
                      ('e', 3, 1.0)) as t(k, v, w)",
    )
    .await;
    assert_eq!(got[..3], ["2", "b", "a"]);
    // Population excess kurtosis of 1, 1, 2, 2, 1: n·m4/m2² − 3.
    let kurtosis: f64 = got[3].parse().expect("a double");
    assert!(
        (kurtosis - (-1.833_333_333_333_333_5)).abs() < 1e-9,
        "{got:?}"
    );
    assert_eq!(got[4], "1.0");
}

#[tokio::test]
async fn spark_sql_operators_and_managed_tables() {
    let got = cells("select 7 div 2 as q, -7 div 2 as n, 5.9 div 1.5 as d, 'abc' rlike 'b' as r, 'abc' not rlike 'b' as nr").await;
    assert_eq!(got, ["3", "-3", "3", "true", "false"]);

    let warehouse = tempfile::tempdir().expect("temp dir");
    let mut conf = EmberConf::default();
    conf.set(
        "spark.sql.warehouse.dir",
        warehouse.path().to_str().expect("utf-8 path"),
        ember_config::ConfSource::CommandLine,
    )
    .expect("a valid setting");
    let mut session = EmberSession::new(conf).expect("session");
    session
        .run_script(
            "create table people (name string, age int) using parquet; \
             insert into people values ('a', 1), ('b', 2)",
        )
        .await
        .expect("create and insert");
    let table_dir = warehouse.path().join("people");
    assert!(
        std::fs::read_dir(&table_dir)
            .expect("table directory")
            .count()
            > 0
    );
    let batches = session
        .run_script("select sum(age) from people")
        .await
        .expect("query");
    assert_eq!(batches[0].column(0).as_primitive::<Int64Type>().value(0), 3);
    // Dropping a managed table deletes its files, so a new table of the same name is empty.
    session.run_script("drop table people").await.expect("drop");
    assert!(!table_dir.exists());
}

#[tokio::test]
async fn string_and_collection_shorthands() {
    let got = cells(
        "select locate('b', 'abcd', 1) as l1, locate('b', 'abcd', 3) as l3, \
         get(array('a', 'b'), 1) as g1, get(array('a', 'b'), -1) as gn, \
         map_contains_key(map(1, 'a'), 1) as mk, sequence(3, 1) as s, \
         to_binary('414243') as h, to_binary('abc', 'utf-8') as u, \
         dayname('2015-04-08 13:08:15') as d, log1p(-1.0) as lp",
    )
    .await;
    assert_eq!(
        got,
        [
            "2",
            "0",
            "b",
            "",
            "true",
            "[3, 2, 1]",
            "414243",
            "616263",
            "Wed",
            ""
        ]
    );
}

#[tokio::test]
async fn range_tables_have_sparks_id_column_and_product_multiplies() {
    let got = cells(
        "select count(*) as n, sum(id) as s, product(id + 1) as p from RANGE(1, 5) as r \
         where r.id > 0",
    )
    .await;
    assert_eq!(got, ["4", "10", "120.0"]);
}

#[tokio::test]
async fn square_roots_of_negatives_are_nan_and_strings_encode_as_utf8() {
    let got = cells(
        "select sqrt(v) as r, decode(encode('héllo', 'UTF-8'), 'utf-8') as round_trip \
         from (values (-4)) as t(v)",
    )
    .await;
    assert_eq!(got, ["NaN", "héllo"]);
}

#[tokio::test]
async fn replace_position_and_levenshtein_take_sparks_optional_arguments() {
    let got = cells(
        "select replace('ABCabc', 'abc') as r2, replace('ABCabc', 'abc', 'DEF') as r3, \
         position('bar', 'foobarbar', 5) as p3, position('bar', 'foobarbar') as p2, \
         levenshtein('kitten', 'sitting') as l2, levenshtein('kitten', 'sitting', 2) as l3",
    )
    .await;
    assert_eq!(got, ["ABC", "ABCDEF", "7", "4", "3", "-1"]);
}

#[tokio::test]
async fn rounding_to_a_scale_works_on_the_decimal_text() {
    let got = cells(
        "select ceil(-0.1, 1) as c, floor(0.29, 2) as f, bround(2.5) as b0, \
         bround(2.1267, 2) as b2, ceil(1.2) as c0, floor(-1.5) as f0",
    )
    .await;
    assert_eq!(got, ["-0.1", "0.29", "2.0", "2.13", "2", "-2"]);
}

#[tokio::test]
async fn hash_mask_conv_and_format_number_answer_as_sparks_documentation() {
    let got = cells(
        "select hash('Spark', array(cast(123 as int)), cast(2 as int)) as h, mask('abcd-EFGH-8765-4321') as m, \
         mask('AbCD123-@$#', 'Q', 'q', 'd', 'o') as m5, conv('100', 2, 10) as c, \
         conv(-10, 16, -10) as cn, format_number(12332.123456, 4) as f, \
         format_number(cast(5 as bigint), 2) as fi, ~0 as n",
    )
    .await;
    assert_eq!(
        got,
        [
            "-1321691492",
            "xxxx-XXXX-nnnn-nnnn",
            "QqQQdddoooo",
            "4",
            "-16",
            "12,332.1235",
            "5.00",
            "-1"
        ]
    );
}

#[tokio::test]
async fn array_insert_map_concat_and_regexp_extractors() {
    let got = cells(
        "select array_insert(array(1, 2, 3, 4), 5, 5) as a1, \
         array_insert(array(5, 4, 3, 2), -1, 1) as a2, \
         array_insert(array(5, 3, 2, 1), -4, 4) as a3, \
         array_insert(array('a', 'b', 'c'), -5, 'd') as a4, \
         map_concat(map(1, 'a', 2, 'b'), map(3, 'c')) as m, \
         regexp_substr('Steven Jones and Stephen Smith', 'Ste(v|ph)en') as s, \
         regexp_extract_all('100-200, 300-400', '([0-9]+)-([0-9]+)', 2) as e",
    )
    .await;
    assert_eq!(
        got,
        [
            "[1, 2, 3, 4, 5]",
            "[5, 4, 3, 2, 1]",
            "[5, 4, 3, 2, 1]",
            "[d, , a, b, c]",
            "{1: a, 2: b, 3: c}",
            "Steven",
            "[200, 400]"
        ]
    );
}

#[tokio::test]
async fn map_key_dedup_policy_last_win_keeps_the_first_place_and_the_last_value() {
    let got = cells(
        "SET spark.sql.mapKeyDedupPolicy = LAST_WIN; \
         select map(1, 'a', 2, 'b', 1, 'c') as m, \
         map_concat(map(1, 'a', 2, 'b'), map(2, 'c', 3, 'd')) as c",
    )
    .await;
    assert_eq!(got, ["{1: c, 2: b}", "{1: a, 2: c, 3: d}"]);
    let e = EmberSession::new(EmberConf::default())
        .expect("session")
        .run_script("select map(1, 'a', 1, 'b')")
        .await
        .expect_err("duplicate keys fail by default")
        .to_string();
    assert!(e.contains("DUPLICATE_MAP_KEY"), "{e}");
}

#[tokio::test]
async fn json_functions_follow_sparks_paths_and_keep_key_order() {
    let got = cells(
        r#"select get_json_object('{"a": {"b": [1, {"c": "x"}]}, "z": 1, "y": 2}', '$.a.b[1].c') as c,
           get_json_object('{"b": {"z": 1, "y": [true, null]}}', '$.b') as o,
           get_json_object('[{"f": "v1"}, {"f": "v2"}]', '$[*].f') as w,
           get_json_object('not json', '$.a') as bad,
           json_array_length('[1, [2, 3], {}]') as n,
           json_object_keys('{"z": 1, "a": {"q": 2}}') as k"#,
    )
    .await;
    assert_eq!(
        got,
        [
            "x",
            r#"{"z":1,"y":[true,null]}"#,
            r#"["v1","v2"]"#,
            "",
            "3",
            "[z, a]"
        ]
    );
}

#[tokio::test]
async fn typed_numeric_literals_have_sparks_types() {
    let got = cells(
        "select typeof(1L) a, typeof(1S) b, typeof(1Y) c, typeof(1.5D) d, typeof(1.5BD) e, \
         typeof(1.5e3) f, 1.5e3 + 1L as g, '2L' as h",
    )
    .await;
    assert_eq!(
        got,
        [
            "bigint",
            "smallint",
            "tinyint",
            "double",
            "decimal(2,1)",
            "double",
            "1501.0",
            "2L"
        ]
    );
}

#[tokio::test]
async fn element_at_counts_from_one_and_fails_past_the_end_unless_tried() {
    let got = cells(
        "select element_at(array(1, 2, 3), 1) a, element_at(array(1, 2, 3), -1) b, \
         try_element_at(array(1, 2, 3), 4) c, try_element_at(array(1), 0) d, \
         element_at(map('a', 1.0), 'a') e, element_at(map('a', 1.0), 'z') f",
    )
    .await;
    assert_eq!(got, ["1", "3", "", "", "1.0", ""]);
    let mut session = EmberSession::new(EmberConf::default()).expect("session");
    for (sql, class) in [
        (
            "select element_at(array(1, 2), 5)",
            "INVALID_ARRAY_INDEX_IN_ELEMENT_AT",
        ),
        ("select element_at(array(1, 2), 0)", "INVALID_INDEX_OF_ZERO"),
    ] {
        let err = session.run_script(sql).await.expect_err(sql);
        assert!(err.to_string().contains(class), "{sql}: {err}");
    }
}

#[tokio::test]
async fn listagg_joins_strings_and_bytes_and_bitmaps_combine() {
    let got = cells(
        "select listagg(s, '-') a, string_agg(s) b, hex(listagg(x, X'42')) c, \
         bitmap_count(bitmap_construct_agg(bitmap_bit_position(n))) d \
         from values ('a', X'01', 1), (null, X'02', 2), ('c', X'03', 2) as t(s, x, n)",
    )
    .await;
    assert_eq!(got, ["a-c", "ac", "0142024203", "2"]);
    let got = cells(
        "select startswith(X'0102', X'01') a, endswith(X'0102', X'01') b, \
         contains('Spark SQL', 'k S') c, contains(X'010203', X'0203') d",
    )
    .await;
    assert_eq!(got, ["true", "false", "true", "true"]);
}

#[tokio::test]
async fn xpath_functions_follow_xpath_one_and_javas_node_values() {
    let got = cells(
        "select xpath('<a><b>b1</b><b>b2</b></a>', 'a/b') a, \
         xpath('<a><b id=\"1\">b1</b><b id=\"2\"/></a>', 'a/b/@id') b, \
         xpath_string('<a><b>x</b><b>y</b></a>', 'a/b') c, \
         xpath_int('<a><b>1.9</b><b>2</b></a>', 'sum(a/b)') d, \
         xpath_int('<a>x</a>', 'a') e, xpath_double('<a>x</a>', 'a') f, \
         xpath_boolean('<a><b/></a>', 'a/c') g, xpath_string('', 'a') h",
    )
    .await;
    assert_eq!(got, ["[, ]", "[1, 2]", "x", "3", "0", "NaN", "false", ""]);
    let mut session = EmberSession::new(EmberConf::default()).expect("session");
    let err = session
        .run_script("select xpath_string('<a><b></a>', 'a')")
        .await
        .expect_err("not XML");
    assert!(err.to_string().contains("INVALID_XML_DOCUMENT"), "{err}");
}

#[tokio::test]
async fn json_csv_and_variants_convert_as_spark_does() {
    let got = cells(
        r#"select to_json(from_json('{"a": 1, "b": [1.5, null], "x": 9}', 'a INT, b ARRAY<DOUBLE>')) as j,
           to_json(from_json('{broken', 'a INT')) as bad,
           schema_of_json('[{"b": 1, "a": "x"}]') as s,
           to_json((date '2022-02-22', 1)) as tuple,
           to_csv(from_csv('1;"x;y";', 'a INT, b STRING, c STRING', map('sep', ';')), map('sep', ';')) as csv,
           schema_of_csv('1,a,true,2.5') as cs,
           to_json(parse_json('{"b": 1.50, "a": [1, 2]}')) as v,
           schema_of_variant(parse_json('{"a": 1, "b": [1, "x"]}')) as vs,
           variant_get(parse_json('{"a": {"b": 7}}'), '$.a.b', 'int') as got,
           try_variant_get(parse_json('{"a": 1}'), '$.a', 'binary') as tried,
           try_parse_json('{a: 1}') is null as unparsed"#,
    )
    .await;
    assert_eq!(
        got,
        [
            r#"{"a":1,"b":[1.5,null]}"#,
            "{}",
            "ARRAY<STRUCT<a: STRING, b: BIGINT>>",
            r#"{"col1":"2022-02-22","col2":1}"#,
            r#"1;"x;y";"#,
            "STRUCT<_c0: INT, _c1: STRING, _c2: BOOLEAN, _c3: DOUBLE>",
            r#"{"a":[1,2],"b":1.50}"#,
            "OBJECT<a: BIGINT, b: ARRAY<VARIANT>>",
            "7",
            "",
            "true",
        ]
    );
}
#[tokio::test]
async fn timestamps_are_made_shifted_and_counted_in_units() {
    let got = cells(
        "set spark.sql.session.timeZone = America/Los_Angeles; \
         select date_format(make_timestamp(2014, 12, 28, 6, 30, 45.887, 'CET'), 'yyyy-MM-dd HH:mm:ss.SSS') as made, \
                date_format(make_timestamp_ntz(2014, 12, 28, 6, 30, 60), 'yyyy-MM-dd HH:mm:ss') as carried, \
                try_make_timestamp(2014, 13, 28, 6, 30, 45.887) is null as invalid, \
                date_format(from_utc_timestamp(timestamp '1997-02-28 10:30:00', 'PST'), 'yyyy-MM-dd HH:mm:ss') as shifted, \
                date_format(timestampadd('MONTH', 1, timestamp '2020-01-31 10:00:00'), 'yyyy-MM-dd HH:mm:ss') as added, \
                timestampdiff('WEEK', timestamp '2016-03-11 09:00:07', timestamp '2024-04-02 09:00:07') as weeks",
    )
    .await;
    assert_eq!(
        got,
        [
            "2014-12-27 21:30:45.887",
            "2014-12-28 06:31:00",
            "true",
            "1997-02-28 02:30:00",
            "2020-02-29 10:00:00",
            "420",
        ]
    );
}

#[tokio::test]
async fn array_functions_keep_sparks_nulls_and_argument_order() {
    let got = cells(
        "select array_append(cast(null as array<int>), 4) is null as appended, \
                array_prepend(array(1, 2), 0) as prepended, \
                array_position(array('b', 'a'), 'z') as missing, \
                array_position(array('b', 'a'), 'a') as found, \
                (select avg(x) from (values (1, null)) as t(y, x)) is null as average, \
                flatten(array(array(1), cast(null as array<int>))) is null as flat_null, \
                flatten(array(array(1, 2), array(3))) as flat",
    )
    .await;
    assert_eq!(
        got,
        ["true", "[0, 1, 2]", "0", "2", "true", "true", "[1, 2, 3]"]
    );
}

#[tokio::test]
async fn string_functions_take_numbers_as_their_text() {
    let got = cells(
        "select upper(14) as u, lpad(5, 3, '0') as p, repeat(1.5, 2) as r, \
                hex(reverse(X'CAFE')) as bytes, reverse('abc') as text",
    )
    .await;
    assert_eq!(got, ["14", "005", "1.51.5", "FECA", "cba"]);
}
