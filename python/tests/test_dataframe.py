"""DataFrame relations, each checked against the rows Spark gives."""

import statistics

import pytest
from pyspark.sql import Row
from pyspark.sql import functions as F
from pyspark.sql.types import LongType, StringType, StructField, StructType


@pytest.fixture()
def people(spark):
    return spark.createDataFrame(
        [(1, "alice", "eng", 100.0), (2, "bob", "eng", 80.0), (3, "carol", "ops", None), (4, "dan", None, 50.0)],
        "id long, name string, dept string, salary double",
    )


def test_select_filter_and_expressions(people):
    rows = people.select("name", (F.col("id") * 10).alias("x")).where(F.col("id") > 2).orderBy("id").collect()
    assert rows == [Row(name="carol", x=30), Row(name="dan", x=40)]
    assert people.selectExpr("id + 1 as next", "upper(name) as n").orderBy("next").first() == Row(next=2, n="ALICE")
    assert people.filter("salary >= 80").count() == 2
    assert [r.name for r in people.where(people.dept.isNull()).collect()] == ["dan"]


def test_unnamed_columns_get_sparks_names(people):
    df = people.select(F.col("id") + 1, F.upper("name"), F.col("salary").cast("int"))
    # A cast of a column keeps its name, as the try_cast and transform doctests show.
    assert df.columns == ["(id + 1)", "upper(name)", "salary"]
    agg = people.groupBy("dept").agg(F.sum("salary"), F.count("*"), F.countDistinct("name"))
    assert agg.columns == ["dept", "sum(salary)", "count(1)", "count(DISTINCT name)"]


def test_with_columns_rename_drop_todf_alias(people):
    df = people.withColumn("bonus", F.col("salary") * 0.1).withColumnRenamed("name", "who").drop("dept", "salary")
    assert df.columns == ["id", "who", "bonus"]
    df = people.withColumns({"a": F.lit(1), "id": F.col("id") * 2})
    assert df.columns == ["id", "name", "dept", "salary", "a"]
    assert sorted(r.id for r in df.collect()) == [2, 4, 6, 8]
    assert people.toDF("a", "b", "c", "d").columns == ["a", "b", "c", "d"]
    aliased = people.alias("p").select("p.name").orderBy("name").first()
    assert aliased == Row(name="alice")


def test_joins_of_every_kind(spark):
    left = spark.createDataFrame([(1, "a"), (2, "b"), (3, "c")], ["k", "l"])
    right = spark.createDataFrame([(2, "x"), (3, "y"), (4, "z")], ["k", "r"])
    def keys(df, col="k"):
        return sorted((r[col] for r in df.collect()), key=lambda v: (v is None, v))
    assert keys(left.join(right, "k")) == [2, 3]
    assert keys(left.join(right, "k", "left")) == [1, 2, 3]
    assert keys(left.join(right, "k", "right")) == [2, 3, 4]
    assert keys(left.join(right, "k", "outer")) == [1, 2, 3, 4]
    assert keys(left.join(right, "k", "left_semi")) == [2, 3]
    assert keys(left.join(right, "k", "left_anti")) == [1]
    assert left.crossJoin(right).count() == 9
    # Same-named columns told apart by the DataFrame they come from.
    joined = left.join(right, left["k"] == right["k"], "inner").select(left["k"], right["r"])
    assert sorted(joined.collect()) == [Row(k=2, r="x"), Row(k=3, r="y")]
    # `on` as a list of names keeps the key once.
    assert left.join(right, ["k"]).columns == ["k", "l", "r"]


def test_self_join_with_aliases(spark):
    df = spark.createDataFrame([(1, 2), (2, 3), (3, None)], ["id", "parent"])
    pairs = (
        df.alias("c")
        .join(df.alias("p"), F.col("c.parent") == F.col("p.id"))
        .select(F.col("c.id").alias("child"), F.col("p.id").alias("parent"))
        .orderBy("child")
        .collect()
    )
    assert pairs == [Row(child=1, parent=2), Row(child=2, parent=3)]


def test_set_operations(spark):
    a = spark.createDataFrame([(1,), (2,), (2,), (3,)], ["v"])
    b = spark.createDataFrame([(2,), (3,), (4,)], ["v"])
    values = lambda df: sorted(r.v for r in df.collect())
    assert values(a.union(b)) == [1, 2, 2, 2, 3, 3, 4]
    assert values(a.union(b).distinct()) == [1, 2, 3, 4]
    assert values(a.intersect(b)) == [2, 3]
    assert values(a.intersectAll(b)) == [2, 3]
    assert values(a.subtract(b)) == [1]
    assert values(a.exceptAll(b)) == [1, 2]
    c = spark.createDataFrame([("x", 1)], ["s", "v"])
    d = spark.createDataFrame([(2, "y")], ["v", "s"])
    assert sorted(c.unionByName(d).collect()) == [Row(s="x", v=1), Row(s="y", v=2)]
    e = spark.createDataFrame([(3,)], ["v"])
    merged = c.unionByName(e, allowMissingColumns=True).orderBy("v").collect()
    assert merged[-1] == Row(s=None, v=3)


def test_sort_limit_offset_and_nulls(people):
    names = [r.name for r in people.orderBy(F.col("salary").asc_nulls_first()).collect()]
    assert names == ["carol", "dan", "bob", "alice"]
    names = [r.name for r in people.orderBy(F.desc_nulls_last("salary")).collect()]
    assert names == ["alice", "bob", "dan", "carol"]
    assert [r.id for r in people.orderBy("id").offset(1).limit(2).collect()] == [2, 3]
    assert len(people.limit(3).collect()) == 3


def test_grouping_rollup_cube_pivot(people):
    totals = {r.dept: r.total for r in people.groupBy("dept").agg(F.sum("salary").alias("total")).collect()}
    assert totals == {"eng": 180.0, "ops": None, None: 50.0}
    rolled = people.rollup("dept").agg(F.count("*").alias("n")).collect()
    assert sorted((r.n for r in rolled)) == [1, 1, 2, 4]
    cubed = people.cube("dept").count().collect()
    assert len(cubed) == 4
    pivoted = people.groupBy("dept").pivot("name", ["alice", "bob"]).agg(F.sum("salary")).where("dept = 'eng'").collect()
    assert pivoted == [Row(dept="eng", alice=100.0, bob=80.0)]
    auto = people.where("dept = 'eng'").groupBy("dept").pivot("name").count().columns
    assert auto == ["dept", "alice", "bob"]


def test_distinct_and_drop_duplicates(spark):
    df = spark.createDataFrame([(1, "a"), (1, "a"), (1, "b"), (2, "b")], ["n", "s"])
    assert df.distinct().count() == 3
    assert df.dropDuplicates(["n"]).count() == 2
    assert df.dropDuplicates().count() == 3


def test_range_sample_repartition(spark):
    assert spark.range(5).collect() == [Row(id=i) for i in range(5)]
    assert [r.id for r in spark.range(2, 10, 3).collect()] == [2, 5, 8]
    big = spark.range(10000)
    sampled = big.sample(fraction=0.1).count()
    assert 700 < sampled < 1300
    assert big.repartition(7).count() == 10000
    assert big.repartition(3, "id").count() == 10000


def test_create_dataframe_from_local_data(spark):
    schema = StructType([StructField("id", LongType()), StructField("tag", StringType())])
    df = spark.createDataFrame([(1, "x"), (2, None)], schema)
    assert df.schema == schema
    assert df.collect() == [Row(id=1, tag="x"), Row(id=2, tag=None)]
    inferred = spark.createDataFrame([Row(a=1, b="q")])
    assert inferred.collect() == [Row(a=1, b="q")]
    import pandas as pd

    from_pandas = spark.createDataFrame(pd.DataFrame({"x": [1.5, 2.5]}))
    assert from_pandas.agg(F.sum("x")).first()[0] == 4.0


def test_describe_and_summary(people):
    described = {r.summary: r for r in people.describe("salary").collect()}
    assert described["count"].salary == "3"
    assert float(described["mean"].salary) == pytest.approx(76.666666, rel=1e-5)
    assert described["max"].salary == "100.0"
    summary = [r.summary for r in people.select("salary").summary().collect()]
    assert summary == ["count", "mean", "stddev", "min", "25%", "50%", "75%", "max"]


def test_na_functions(people):
    filled = people.na.fill(0.0).orderBy("id").collect()
    assert filled[2].salary == 0.0 and filled[3].dept is None
    assert people.na.fill("none").where("dept = 'none'").count() == 1
    assert people.na.drop().count() == 2
    assert people.na.drop(subset=["salary"]).count() == 3
    replaced = people.na.replace("eng", "engineering", "dept").where("dept = 'engineering'").count()
    assert replaced == 2


def test_unpivot(spark):
    wide = spark.createDataFrame([(1, 10, 20)], ["id", "a", "b"])
    long = wide.unpivot("id", ["a", "b"], "key", "val").orderBy("key").collect()
    assert long == [Row(id=1, key="a", val=10), Row(id=1, key="b", val=20)]


def test_show_prints_sparks_table(people, capsys):
    people.orderBy("id").show(2)
    out = capsys.readouterr().out
    assert "+---+-----+----+------+" in out
    assert "| id| name|dept|salary|" in out
    assert "|  1|alice| eng| 100.0|" in out
    assert "only showing top 2 rows" in out


def test_sql_with_parameters_and_temp_views(spark, people):
    people.createOrReplaceTempView("people")
    assert spark.sql("select name from people where id = :id", args={"id": 2}).first().name == "bob"
    assert spark.sql("select name from people where id = ?", args=[3]).first().name == "carol"
    assert spark.table("people").count() == 4
    spark.sql("create or replace temp view eng as select * from people where dept = 'eng'")
    assert spark.table("eng").count() == 2


def test_explode_and_collections(spark):
    df = spark.createDataFrame([(1, [1, 2]), (2, [])], "id int, xs array<int>")
    assert df.select("id", F.explode("xs").alias("x")).collect() == [Row(id=1, x=1), Row(id=1, x=2)]
    assert df.select(F.size("xs").alias("n")).orderBy("n").collect() == [Row(n=0), Row(n=2)]
    assert df.select(F.col("xs")[0].alias("first")).where("id = 1").first().first == 1


def test_tail_and_statistics(spark):
    df = spark.createDataFrame(
        [(1, 2.0, "a", "x"), (2, 4.1, "b", "x"), (3, 5.9, "a", "y"), (4, 8.2, "a", None), (5, 9.8, "b", "x")],
        ["i", "v", "k", "t"],
    )
    assert df.orderBy("i").tail(2) == [Row(i=4, v=8.2, k="a", t=None), Row(i=5, v=9.8, k="b", t="x")]
    assert df.orderBy("i").tail(0) == []
    assert [r.id for r in spark.range(0, 100000).orderBy("id").tail(3)] == [99997, 99998, 99999]
    i, v = [1, 2, 3, 4, 5], [2.0, 4.1, 5.9, 8.2, 9.8]
    assert df.stat.cov("i", "v") == pytest.approx(statistics.covariance(i, v))
    assert df.stat.corr("i", "v") == pytest.approx(statistics.correlation(i, v))

    table = df.stat.crosstab("k", "t")
    assert table.columns == ["k_t", "null", "x", "y"]
    assert sorted(map(tuple, table.collect())) == [("a", 1, 1, 1), ("b", 0, 2, 0)]

    frequent = df.stat.freqItems(["k", "i"], 0.5).first()
    assert sorted(frequent["k_freqItems"]) == ["a"] and frequent["i_freqItems"] == []

    # relativeError 0 is exact: the value at rank ceil(p * n).
    assert df.approxQuantile("i", [0.0, 0.5, 1.0], 0.0) == [1.0, 3.0, 5.0]
    both = df.approxQuantile(["i", "v"], [0.5], 0.0)
    assert both == [[3.0], [5.9]]
    assert df.approxQuantile("i", [0.5], 0.1)[0] == pytest.approx(3.0, abs=1.0)

    big = spark.range(0, 20000).withColumn("s", F.col("id") % 3)
    sampled = big.stat.sampleBy("s", {0: 0.5, 1: 0.0}, seed=7)
    counts = {r.s: r["count"] for r in sampled.groupBy("s").count().collect()}
    assert set(counts) == {0} and 2800 < counts[0] < 3900


def test_show_prints_binary_as_spark_does(spark, capsys):
    spark.createDataFrame([(bytearray(b"ab\n"),)], "b binary").select(
        "b", F.encode(F.lit("hi"), "UTF-8").alias("e")
    ).show()
    out = capsys.readouterr().out
    assert "|[61 62 0A]|[68 69]|" in out


def test_spark_partition_id_numbers_the_slices_of_a_range(spark):
    df = spark.range(0, 10, 1, 3).select("id", F.spark_partition_id().alias("p"))
    assert df.columns == ["id", "p"]
    rows = sorted((r.id, r.p) for r in df.collect())
    # Spark's slices of 10 rows in 3: [0, 3), [3, 6), [6, 10).
    assert rows == [(i, 0 if i < 3 else 1 if i < 6 else 2) for i in range(10)]
    assert spark.range(4).select(F.spark_partition_id()).columns == ["SPARK_PARTITION_ID()"]
    with pytest.raises(Exception, match="spark_partition_id"):
        spark.range(4).where(F.spark_partition_id() == 0).collect()


def test_na_drop_counts_nan_as_missing(spark):
    df = spark.createDataFrame(
        [(10, 80.0, "Alice"), (5, float("nan"), "Bob"), (None, None, "Tom"), (None, float("nan"), None)],
        ["age", "height", "name"],
    )
    assert [r.name for r in df.na.drop().collect()] == ["Alice"]
    assert sorted(r.name or "" for r in df.na.drop(how="all").collect()) == ["Alice", "Bob", "Tom"]
    assert sorted(r.name for r in df.na.drop(subset=["name"]).collect()) == ["Alice", "Bob", "Tom"]


def test_struct_fields_are_named_with_a_dot_and_map_values_with_brackets(spark):
    df = spark.createDataFrame([Row(r=Row(a=1, b="b"), m={"k": 2}, xs=[5, 6])])
    out = df.select(df.r.a, df.r.getField("b"), df.m["k"], df.xs[0])
    assert out.columns == ["r.a", "r.b", "m[k]", "xs[0]"]
    assert tuple(out.first()) == (1, "b", 2, 5)
