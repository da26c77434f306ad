"""Types, literals, casts, functions and windows, as Spark computes them."""

import datetime
import decimal

import pytest
from pyspark.sql import Row, Window
from pyspark.sql import functions as F
from pyspark.sql.types import (
    ArrayType, BooleanType, ByteType, DateType, DecimalType, DoubleType, FloatType, IntegerType,
    LongType, MapType, ShortType, StringType, StructField, StructType, TimestampType,
)


def test_every_type_round_trips(spark):
    schema = StructType([
        StructField("b", BooleanType()), StructField("i8", ByteType()), StructField("i16", ShortType()),
        StructField("i32", IntegerType()), StructField("i64", LongType()), StructField("f", FloatType()),
        StructField("d", DoubleType()), StructField("dec", DecimalType(12, 3)), StructField("s", StringType()),
        StructField("day", DateType()), StructField("ts", TimestampType()),
        StructField("arr", ArrayType(IntegerType())), StructField("m", MapType(StringType(), LongType())),
        StructField("st", StructType([StructField("x", IntegerType()), StructField("y", StringType())])),
    ])
    row = (True, 1, 2, 3, 4, 1.5, 2.25, decimal.Decimal("123.456"), "héllo", datetime.date(2024, 2, 29),
           datetime.datetime(2024, 1, 2, 3, 4, 5, 678000), [1, None, 3], {"k": 7}, Row(x=1, y="z"))
    df = spark.createDataFrame([row, tuple(None for _ in row)], schema)
    assert df.schema == schema
    got = df.collect()
    assert tuple(got[0]) == row
    assert all(v is None for v in got[1])


def test_literals_of_each_kind(spark):
    row = spark.range(1).select(
        F.lit(True).alias("b"), F.lit(7).alias("i"), F.lit(2**40).alias("l"), F.lit(1.25).alias("d"),
        F.lit(decimal.Decimal("9.99")).alias("dec"), F.lit("s").alias("s"),
        F.lit(datetime.date(2020, 1, 1)).alias("day"), F.lit(None).alias("n"), F.array(F.lit(1), F.lit(2)).alias("a"),
    ).first()
    assert row == Row(b=True, i=7, l=2**40, d=1.25, dec=decimal.Decimal("9.99"), s="s",
                      day=datetime.date(2020, 1, 1), n=None, a=[1, 2])


def test_casts(spark):
    row = spark.range(1).select(
        F.lit("42").cast("int").alias("i"), F.lit(3.99).cast("int").alias("t"),
        F.lit("2024-05-06").cast("date").alias("d"), F.lit(5).cast("string").alias("s"),
        F.lit("1.5").cast(DecimalType(4, 2)).alias("dec"),
    ).first()
    assert row == Row(i=42, t=3, d=datetime.date(2024, 5, 6), s="5", dec=decimal.Decimal("1.50"))


def test_arithmetic_comparison_and_boolean(spark):
    row = spark.range(1).select(
        (F.lit(7) / F.lit(2)).alias("div"), (F.lit(7) % F.lit(3)).alias("mod"), (-F.lit(3)).alias("neg"),
        (F.lit(1) == F.lit(1)).alias("eq"), (F.lit(None) == F.lit(1)).alias("null_eq"),
        F.lit(None).eqNullSafe(F.lit(None)).alias("safe"), (F.lit(True) & ~F.lit(False)).alias("and_not"),
        F.lit(5).between(1, 10).alias("between"), F.lit(2).isin(1, 2, 3).alias("isin"),
    ).first()
    assert row == Row(div=3.5, mod=1, neg=-3, eq=True, null_eq=None, safe=True, and_not=True, between=True, isin=True)


def test_string_and_regex_functions(spark):
    df = spark.createDataFrame([("  Hello World  ",)], ["s"])
    row = df.select(
        F.trim("s").alias("t"), F.upper(F.trim("s")).alias("u"), F.length(F.trim("s")).alias("n"),
        F.substring(F.trim("s"), 1, 5).alias("sub"), F.concat_ws("-", F.lit("a"), F.lit("b")).alias("cw"),
        F.regexp_replace(F.trim("s"), "o", "0").alias("rr"), F.trim("s").rlike("^H.*d$").alias("rl"),
        F.trim("s").like("Hello%").alias("lk"), F.trim("s").startswith("Hell").alias("sw"),
        F.trim("s").contains("lo W").alias("ct"), F.lpad(F.lit("7"), 3, "0").alias("pad"),
        F.regexp_replace(F.lit("2024-05"), r"(\d+)-(\d+)", "$2/$1").alias("groups"),
    ).first()
    assert row == Row(t="Hello World", u="HELLO WORLD", n=11, sub="Hello", cw="a-b", rr="Hell0 W0rld",
                      rl=True, lk=True, sw=True, ct=True, pad="007", groups="05/2024")


def test_date_time_functions(spark):
    df = spark.createDataFrame([(datetime.date(2024, 3, 15),)], ["d"])
    row = df.select(
        F.year("d").alias("y"), F.month("d").alias("m"), F.dayofmonth("d").alias("dd"),
        F.dayofweek("d").alias("dow"), F.date_add("d", 20).alias("plus"), F.date_sub("d", 15).alias("minus"),
        F.datediff(F.lit("2024-04-01").cast("date"), "d").alias("diff"),
        F.date_format("d", "dd/MM/yyyy").alias("fmt"), F.to_date(F.lit("15.03.2024"), "dd.MM.yyyy").alias("parsed"),
        F.trunc("d", "month").alias("first"),
    ).first()
    assert row == Row(y=2024, m=3, dd=15, dow=6, plus=datetime.date(2024, 4, 4), minus=datetime.date(2024, 2, 29),
                      diff=17, fmt="15/03/2024", parsed=datetime.date(2024, 3, 15), first=datetime.date(2024, 3, 1))


def test_math_and_conditional_functions(spark):
    row = spark.range(1).select(
        F.abs(F.lit(-2)).alias("abs"), F.sqrt(F.lit(16.0)).alias("sqrt"), F.pow(F.lit(2), F.lit(10)).alias("pow"),
        F.round(F.lit(2.5)).alias("r"), F.round(F.lit(1.2345), 2).alias("r2"), F.floor(F.lit(2.7)).alias("fl"),
        F.ceil(F.lit(2.1)).alias("ce"), F.log10(F.lit(1000.0)).alias("lg"),
        F.when(F.lit(1) > 2, "a").when(F.lit(1) < 2, "b").otherwise("c").alias("w"),
        F.coalesce(F.lit(None), F.lit(3)).alias("co"), F.nvl(F.lit(None), F.lit(4)).alias("nv"),
        F.greatest(F.lit(1), F.lit(5), F.lit(3)).alias("gr"),
    ).first()
    assert row == Row(abs=2, sqrt=4.0, pow=1024.0, r=3.0, r2=1.23, fl=2, ce=3, lg=3.0, w="b", co=3, nv=4, gr=5)


def test_aggregate_functions(spark):
    df = spark.createDataFrame([("a", 1.0), ("a", 3.0), ("b", 5.0), ("b", None)], ["k", "v"])
    rows = {r.k: r for r in df.groupBy("k").agg(
        F.count("v").alias("n"), F.sum("v").alias("s"), F.avg("v").alias("a"), F.min("v").alias("lo"),
        F.max("v").alias("hi"), F.collect_list("v").alias("cl"), F.collect_set("v").alias("cs"),
        F.stddev("v").alias("sd"), F.variance("v").alias("var"), F.countDistinct("v").alias("cd"),
        F.approx_count_distinct("v").alias("acd"),
    ).collect()}
    assert rows["a"].n == 2 and rows["a"].s == 4.0 and rows["a"].a == 2.0 and rows["a"].lo == 1.0 and rows["a"].hi == 3.0
    assert sorted(rows["a"].cl) == [1.0, 3.0] and sorted(rows["a"].cs) == [1.0, 3.0]
    assert rows["a"].sd == pytest.approx(1.41421356) and rows["a"].var == pytest.approx(2.0)
    assert rows["a"].cd == 2 and rows["a"].acd == 2
    assert rows["b"].n == 1 and rows["b"].sd is None
    total = df.agg(F.percentile_approx("v", 0.5).alias("median"), F.first("k").alias("f")).first()
    assert total.median == 3.0 and total.f in ("a", "b")


def test_window_functions(spark):
    df = spark.createDataFrame([("a", 1), ("a", 2), ("a", 2), ("b", 5)], ["k", "v"])
    w = Window.partitionBy("k").orderBy("v")
    rows = df.select(
        "k", "v", F.row_number().over(w).alias("rn"), F.rank().over(w).alias("rk"),
        F.dense_rank().over(w).alias("dr"), F.lag("v").over(w).alias("prev"), F.lead("v", 1, -1).over(w).alias("next"),
        F.ntile(2).over(w).alias("tile"),
        F.sum("v").over(w.rowsBetween(Window.unboundedPreceding, Window.currentRow)).alias("running"),
    ).orderBy("k", "rn").collect()
    assert [(r.rn, r.rk, r.dr, r.prev, r.next, r.tile, r.running) for r in rows] == [
        (1, 1, 1, None, 2, 1, 1), (2, 2, 2, 1, 2, 1, 3), (3, 2, 2, 2, -1, 2, 5), (1, 1, 1, None, -1, 1, 5),
    ]


def test_collections_and_structs(spark):
    df = spark.createDataFrame([([3, 1, 2], {"a": 1}, Row(x=1, y="q"))], "arr array<int>, m map<string,int>, st struct<x:int,y:string>")
    row = df.select(
        F.array_contains("arr", 2).alias("has"), F.size("arr").alias("n"), F.col("arr")[0].alias("first"),
        F.col("m")["a"].alias("ma"), F.col("st.y").alias("sy"), F.col("st")["x"].alias("sx"),
        F.struct(F.lit(1).alias("one")).alias("made"),
    ).first()
    assert row == Row(has=True, n=3, first=3, ma=1, sy="q", sx=1, made=Row(one=1))


def test_decimal_results_take_sparks_types_and_half_up_digits(spark):
    schema = StructType([StructField("k", StringType()), StructField("x", DecimalType(15, 2)),
                         StructField("y", DecimalType(10, 2)), StructField("z", DecimalType(10, 4))])
    df = spark.createDataFrame([
        ("a", decimal.Decimal("0.01"), decimal.Decimal("2.00"), decimal.Decimal("2.3455")),
        ("a", decimal.Decimal("0.01"), decimal.Decimal("3.00"), decimal.Decimal("-2.3455")),
        ("a", decimal.Decimal("0.00"), decimal.Decimal("3.00"), decimal.Decimal("9.9999")),
    ], schema)
    out = df.select(
        (df.y / F.lit(decimal.Decimal("3.00")).cast(DecimalType(10, 2))).alias("div"),
        (F.lit(1) - df.x).alias("one_minus"), (df.x * df.y).alias("mul"),
        F.round(df.z, 2).alias("r2"), F.round(df.z, 0).alias("r0"), (df.x * F.lit(1.5)).alias("dbl"),
    )
    types = {f.name: f.dataType for f in out.schema.fields}
    assert types == {"div": DecimalType(23, 13), "one_minus": DecimalType(16, 2), "mul": DecimalType(26, 4),
                     "r2": DecimalType(9, 2), "r0": DecimalType(7, 0), "dbl": DoubleType()}
    rows = out.collect()
    assert [r.div for r in rows] == [decimal.Decimal("0.6666666666667"), decimal.Decimal("1.0000000000000"),
                                     decimal.Decimal("1.0000000000000")]
    assert [r.r2 for r in rows] == [decimal.Decimal("2.35"), decimal.Decimal("-2.35"), decimal.Decimal("10.00")]
    assert [r.r0 for r in rows] == [decimal.Decimal("2"), decimal.Decimal("-2"), decimal.Decimal("10")]
    assert rows[0].one_minus == decimal.Decimal("0.99") and rows[0].dbl == pytest.approx(0.015)

    # avg is sum / count rounded HALF_UP at decimal(p+4, s+4): 0.02 / 3 = 0.006667, not 0.006666.
    total = df.agg(F.avg("x").alias("a"), F.sum("x").alias("s"))
    assert {f.name: f.dataType for f in total.schema.fields} == {"a": DecimalType(19, 6), "s": DecimalType(25, 2)}
    assert total.first() == Row(a=decimal.Decimal("0.006667"), s=decimal.Decimal("0.02"))
    grouped = df.groupBy("k").agg(F.avg("x").alias("a")).first()
    assert grouped.a == decimal.Decimal("0.006667")
    running = df.select(F.avg("x").over(Window.partitionBy("k")).alias("a")).collect()
    assert {r.a for r in running} == {decimal.Decimal("0.006667")}

    sql = spark.sql("SELECT 1.5 / 3 AS q, round(2.675, 2) AS r, round(CAST(2.675 AS DOUBLE), 2) AS rd")
    assert [f.dataType for f in sql.schema.fields] == [DecimalType(7, 6), DecimalType(4, 2), DoubleType()]
    assert sql.first() == Row(q=decimal.Decimal("0.500000"), r=decimal.Decimal("2.68"), rd=2.68)


def test_doubles_round_half_up_on_their_decimal_text(spark):
    row = spark.range(1).select(
        F.round(F.lit(2.675), 2).alias("a"), F.round(F.lit(-2.5)).alias("b"), F.round(F.lit(0.125), 2).alias("c"),
        F.round(F.lit(1250.0), -2).alias("d"), F.round(F.lit(1.005), 2).alias("e"),
    ).first()
    assert row == Row(a=2.68, b=-3.0, c=0.13, d=1300.0, e=1.01)


def test_ranking_functions_are_ints_and_sql_sorts_nulls_as_spark(spark):
    df = spark.createDataFrame([("a", 1), ("a", None), ("b", 3)], "k string, v int")
    df.createOrReplaceTempView("ranked")
    w = Window.partitionBy("k").orderBy("v")
    typed = df.select(F.row_number().over(w).alias("rn"), F.rank().over(w).alias("rk"),
                      F.dense_rank().over(w).alias("dr"), F.ntile(2).over(w).alias("nt"))
    assert [f.dataType.simpleString() for f in typed.schema.fields] == ["int"] * 4
    sql = spark.sql("select row_number() over (order by v) as rn from ranked")
    assert sql.schema.fields[0].dataType.simpleString() == "int"
    # Spark: NULLS FIRST ascending, NULLS LAST descending, in SQL as in the DataFrame API.
    assert [r.v for r in spark.sql("select v from ranked order by v").collect()] == [None, 1, 3]
    assert [r.v for r in spark.sql("select v from ranked order by v desc").collect()] == [3, 1, None]
    assert [r.v for r in spark.sql("select v from ranked order by v limit 1").collect()] == [None]


def test_spark_catalog_functions_in_sql_and_dataframes(spark):
    df = spark.createDataFrame([("oneAtwoBthreeC", "2024-02-29")], "s string, d string")
    row = df.select(
        F.split("s", "[ABC]").alias("parts"),
        F.split("s", "[ABC]", 2).alias("two"),
        F.regexp_extract("s", r"(\w+?)A(\w+?)B", 2).alias("second"),
        F.year("d").alias("y"), F.month("d").alias("m"), F.dayofmonth("d").alias("dm"),
        F.dayofweek("d").alias("dw"), F.dayofyear("d").alias("dy"), F.weekofyear("d").alias("wy"),
        F.quarter("d").alias("q"),
        F.sort_array(F.array(F.lit(3), F.lit(None), F.lit(1))).alias("asc"),
        F.sort_array(F.array(F.lit(3), F.lit(None), F.lit(1)), asc=False).alias("desc"),
        F.shiftleft(F.lit(1), 3).alias("shifted"),
        F.concat(F.lit("a"), F.lit(None).cast("string")).alias("nullconcat"),
    ).first()
    assert row.parts == ["one", "two", "three", ""]
    assert row.two == ["one", "twoBthreeC"]
    assert row.second == "two"
    assert (row.y, row.m, row.dm, row.dw, row.dy, row.wy, row.q) == (2024, 2, 29, 5, 60, 9, 1)
    assert row.asc == [None, 1, 3] and row.desc == [3, 1, None]
    assert row.shifted == 8
    # Spark's concat is null when any argument is null.
    assert row.nullconcat is None
    sql = spark.sql(
        "select split('a1b2c', '[0-9]') as p, year(date '2021-07-01') as y,"
        " regexp_extract('x=42', 'x=([0-9]+)', 1) as v"
    ).first()
    assert (sql.p, sql.y, sql.v) == (["a", "b", "c"], 2021, "42")
    assert df.selectExpr("year(d) as y").first().y == 2024
    two = spark.createDataFrame([(1, "a"), (1, "a"), (1, None), (2, "b")], "a int, b string")
    assert two.select(F.count_distinct("a", "b").alias("n")).first().n == 2


def test_posexplode_gives_int_positions_beside_values(spark):
    df = spark.createDataFrame([(1, [10, 20]), (2, []), (3, None)], "id int, xs array<int>")
    plain = df.select("id", F.posexplode("xs"))
    assert plain.columns == ["id", "pos", "col"]
    assert plain.schema["pos"].dataType.simpleString() == "int"
    assert sorted(tuple(r) for r in plain.collect()) == [(1, 0, 10), (1, 1, 20)]
    outer = df.select("id", F.posexplode_outer("xs").alias("p", "v")).collect()
    assert sorted((r.id, r.p, r.v) for r in outer) == [(1, 0, 10), (1, 1, 20), (2, None, None), (3, None, None)]


def test_higher_order_functions_with_lambdas(spark):
    # Several partitions, so on local-cluster the lambdas travel to executors in plans.
    df = spark.createDataFrame(
        [(1, [1, 2, 3], [10, 20], {"a": 1, "b": 2}),
         (2, [], [5], {}),
         (3, None, None, None),
         (4, [4, None], [1, 2, 3], {"c": 3})],
        "k int, xs array<int>, ys array<int>, m map<string,int>",
    ).repartition(3)
    rows = df.select(
        "k",
        F.transform("xs", lambda x: x * F.col("k")).alias("scaled"),
        F.transform("xs", lambda x, i: x + i).alias("plus_index"),
        F.filter("xs", lambda x: x > 1).alias("big"),
        F.exists("xs", lambda x: x > 3).alias("any_big"),
        F.forall("xs", lambda x: x > 0).alias("all_positive"),
        F.aggregate("xs", F.lit(0), lambda acc, x: acc + x, lambda acc: acc * 10).alias("sum10"),
        F.zip_with("xs", "ys", lambda x, y: F.coalesce(x, F.lit(0)) + F.coalesce(y, F.lit(0))).alias("zipped"),
        F.map_filter("m", lambda key, v: v > 1).alias("m_big"),
        F.transform_values("m", lambda key, v: v + 100).alias("m_plus"),
        F.transform_keys("m", lambda key, v: F.upper(key)).alias("m_upper"),
    ).orderBy("k").collect()
    assert [tuple(r) for r in rows] == [
        (1, [1, 2, 3], [1, 3, 5], [2, 3], False, True, 60, [11, 22, 3],
         {"b": 2}, {"a": 101, "b": 102}, {"A": 1, "B": 2}),
        (2, [], [], [], False, True, 0, [5], {}, {}, {}),
        (3, None, None, None, None, None, None, None, None, None, None),
        # A NULL element makes `forall` NULL once no element answers false; `exists` has
        # found its true answer already.
        (4, [16, None], [4, None], [4], True, None, None, [5, 2, 3], {"c": 3}, {"c": 103}, {"C": 3}),
    ]


def test_lambdas_in_sql_text(spark):
    row = spark.sql(
        "SELECT transform(array(1, 2), x -> x + 1) AS t, "
        "aggregate(array(1, 2, 3), 0, (acc, x) -> acc + x) AS s"
    ).first()
    assert row == Row(t=[2, 3], s=6)


def test_maps_explode_into_keys_and_values(spark):
    df = spark.createDataFrame(
        [(1, {"a": 1, "b": 2}), (2, {}), (3, None)], "id int, m map<string,int>"
    )
    exploded = df.select("id", F.explode("m")).orderBy("id", "key").collect()
    assert [tuple(r) for r in exploded] == [(1, "a", 1), (1, "b", 2)]
    assert df.select("id", F.explode("m")).columns == ["id", "key", "value"]
    outer = df.select("id", F.posexplode_outer("m")).orderBy("id", "pos").collect()
    assert [tuple(r) for r in outer] == [
        (1, 0, "a", 1), (1, 1, "b", 2), (2, None, None, None), (3, None, None, None)
    ]
    structs = spark.createDataFrame([([(1, "x")],)], "a array<struct<n:int,s:string>>")
    assert structs.select(F.explode("a").alias("e")).select("e.*").collect() == [Row(n=1, s="x")]


def test_timestamps_read_from_text_are_in_the_session_time_zone(spark):
    spark.conf.set("spark.sql.session.timeZone", "America/Los_Angeles")
    try:
        df = spark.createDataFrame(
            [("2015-04-08 12:12:12", "2015-04-08", "yyyy-MM-dd"), ("2025-01-09 00:00:00", "2025+01+09", "yyyy+MM+dd")],
            ["ts", "dt", "fmt"],
        )
        rows = df.select(
            F.unix_timestamp("ts").alias("u"),
            F.to_unix_timestamp("dt", "fmt").alias("uf"),
            F.unix_micros(F.to_timestamp("ts")).alias("micros"),
            F.to_timestamp_ntz("dt", "fmt").alias("ntz"),
        ).collect()
        # 12:12:12 in Los Angeles (PDT, UTC-7) is 19:12:12 UTC.
        assert rows[0]["u"] == 1428520332
        assert rows[0]["uf"] == 1428476400
        assert rows[0]["micros"] == 1428520332 * 1_000_000
        assert rows[1]["u"] == 1736409600
        assert rows[1]["uf"] == 1736409600
        assert rows[1]["ntz"] == datetime.datetime(2025, 1, 9)
    finally:
        spark.conf.unset("spark.sql.session.timeZone")


def test_collection_and_string_forms_and_their_names(spark):
    df = spark.createDataFrame([("SPARK_SQL", "CORE", [1, 2, 1, 3], 4)], ["x", "y", "xs", "v"])
    out = df.select(
        F.overlay("x", "y", 7),
        F.reverse("xs"),
        F.array_remove("xs", 1),
        F.log(2.0, "v"),
        F.lpad("y", 6, F.lit(b"uv")),
    )
    assert out.columns == [
        "overlay(x, y, 7, -1)",
        "reverse(xs)",
        "array_remove(xs, 1)",
        "LOG(2.0, v)",
        "lpad(y, 6, X'7576')",
    ]
    assert df.agg(F.first("v", ignorenulls=True)).columns == ["first(v)"]
    row = out.first()
    # Spark's overlay with len -1 replaces as many characters as the replacement has.
    assert row[0] == "SPARK_CORE"
    assert row[1] == [3, 1, 2, 1]
    assert row[2] == [2, 3]
    assert row[3] == 2.0


def test_extract_months_between_and_convert_timezone(spark):
    df = spark.createDataFrame(
        [(datetime.datetime(2015, 4, 8, 13, 8, 15), "1997-02-28 10:30:00", "1996-10-30", "2015-04-08 15:00:00")],
        ["ts", "d1", "d2", "hk"],
    )
    row = df.select(
        F.extract(F.lit("YEAR"), "ts").alias("y"),
        F.extract(F.lit("dow"), "ts").alias("dow"),
        F.extract(F.lit("S"), "ts").alias("s"),
        F.months_between("d1", "d2"),
        F.months_between("d2", "d1", False).alias("raw"),
        F.convert_timezone(F.lit("Asia/Hong_Kong"), F.lit("America/Los_Angeles"), "hk").alias("la"),
    ).first()
    assert (row.y, row.dow, row.s) == (2015, 4, decimal.Decimal("15.000000"))
    assert row["months_between(d1, d2, true)"] == 3.94959677
    assert abs(row.raw + 3.9495967741935) < 1e-12
    assert row.la == datetime.datetime(2015, 4, 8, 0, 0)


def test_with_field_and_drop_fields_rebuild_structs(spark):
    df = spark.createDataFrame([Row(a=Row(b=1, c=2, e=Row(f=4, g=5))), Row(a=None)])
    replaced = df.select(df["a"].withField("b", F.lit(3)).alias("a"))
    assert [r.a for r in replaced.collect()] == [Row(b=3, c=2, e=Row(f=4, g=5)), None]
    dropped = df.select(F.col("a").dropFields("b", "e.g").alias("a"))
    assert [r.a for r in dropped.collect()] == [Row(c=2, e=Row(f=4)), None]
    added = df.select(df["a"].withField("d", F.lit(4)).alias("a")).first().a
    assert added == Row(b=1, c=2, e=Row(f=4, g=5), d=4)


def test_json_tuple_makes_columns_and_regexp_names(spark):
    df = spark.createDataFrame([("1", '{"f1": "v1", "f2": "v2"}'), ("2", '{"f1": "v3"}')], ["key", "js"])
    rows = df.select(df.key, F.json_tuple(df.js, "f1", "f2")).orderBy("key").collect()
    assert rows == [Row(key="1", c0="v1", c1="v2"), Row(key="2", c0="v3", c1=None)]
    named = df.select(F.regexp_like("js", F.lit("v1")), F.regexp_replace("js", "v", "w"))
    assert named.columns == ["REGEXP_LIKE(js, v1)", "regexp_replace(js, v, w, 1)"]


def test_time_values_round_trip_and_compute_as_spark(spark):
    from pyspark.sql.types import TimeType
    df = spark.createDataFrame([(datetime.time(14, 30, 0, 500000),), (None,)], ["t"])
    assert df.schema["t"].dataType == TimeType()
    assert df.collect() == [Row(t=datetime.time(14, 30, 0, 500000)), Row(t=None)]
    got = df.where("t is not null").select(
        F.hour("t"), F.minute("t"), F.second("t"), F.time_to_micros("t"), F.typeof("t"),
        F.time_trunc(F.lit("HOUR"), "t").alias("hour_start"),
        F.time_diff(F.lit("MINUTE"), F.to_time(F.lit("12:00:00")), "t").alias("since_noon"),
    ).first()
    assert tuple(got) == (14, 30, 0, 52200500000, "time(6)", datetime.time(14), 150)
    shown = spark.sql("select time '06:30:45.887' a, make_time(1, 2, 3.5) b").collect()
    assert shown == [Row(a=datetime.time(6, 30, 45, 887000), b=datetime.time(1, 2, 3, 500000))]
    assert spark.sql("select try_to_time('nope') t").first().t is None
    with pytest.raises(Exception, match="CANNOT_PARSE_TIME"):
        spark.sql("select to_time('nope')").collect()
    with pytest.raises(Exception, match="DATETIME_FIELD_OUT_OF_BOUNDS"):
        spark.sql("select make_time(25, 0, 0)").collect()
