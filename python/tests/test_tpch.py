"""The 22 TPC-H queries through spark.sql, and six of them through the DataFrame API, give
the reference answers on every master."""

import datetime

import pytest
from pyspark.sql import functions as F

from answers import assert_answer, query_text


def run_sql(spark, number):
    rows, columns = None, None
    for statement in query_text(number).split(";"):
        text = "\n".join(l for l in statement.splitlines() if not l.strip().startswith("--")).strip()
        if not text:
            continue
        df = spark.sql(text)
        if text.lower().startswith("select"):
            rows, columns = df.collect(), df.columns
    return rows, columns


@pytest.mark.parametrize("number", range(1, 23))
def test_tpch_through_spark_sql(tpch, number):
    rows, columns = run_sql(tpch, number)
    assert_answer(number, rows, columns)


def revenue():
    return F.col("l_extendedprice") * (1 - F.col("l_discount"))


def test_q1_dataframe(tpch):
    t = tpch.table
    df = (
        t("lineitem")
        .where(F.col("l_shipdate") <= F.date_sub(F.lit(datetime.date(1998, 12, 1)), 90))
        .groupBy("l_returnflag", "l_linestatus")
        .agg(
            F.sum("l_quantity").alias("sum_qty"),
            F.sum("l_extendedprice").alias("sum_base_price"),
            F.sum(revenue()).alias("sum_disc_price"),
            F.sum(revenue() * (1 + F.col("l_tax"))).alias("sum_charge"),
            F.avg("l_quantity").alias("avg_qty"),
            F.avg("l_extendedprice").alias("avg_price"),
            F.avg("l_discount").alias("avg_disc"),
            F.count("*").alias("count_order"),
        )
        .orderBy("l_returnflag", "l_linestatus")
    )
    assert_answer(1, df.collect(), df.columns)


def test_q3_dataframe(tpch):
    t = tpch.table
    customer = t("customer").where(F.col("c_mktsegment") == "BUILDING")
    orders = t("orders").where(F.col("o_orderdate") < F.lit("1995-03-15").cast("date"))
    lineitem = t("lineitem").where(F.col("l_shipdate") > F.lit("1995-03-15").cast("date"))
    df = (
        customer.join(orders, customer.c_custkey == orders.o_custkey)
        .join(lineitem, F.col("l_orderkey") == F.col("o_orderkey"))
        .groupBy("l_orderkey", "o_orderdate", "o_shippriority")
        .agg(F.sum(revenue()).alias("revenue"))
        .select("l_orderkey", "revenue", "o_orderdate", "o_shippriority")
        .orderBy(F.desc("revenue"), "o_orderdate")
        .limit(10)
    )
    assert_answer(3, df.collect(), df.columns)


def test_q5_dataframe(tpch):
    t = tpch.table
    start = datetime.date(1994, 1, 1)
    df = (
        t("customer")
        .join(t("orders"), F.col("c_custkey") == F.col("o_custkey"))
        .join(t("lineitem"), F.col("l_orderkey") == F.col("o_orderkey"))
        .join(t("supplier"), (F.col("l_suppkey") == F.col("s_suppkey")) & (F.col("c_nationkey") == F.col("s_nationkey")))
        .join(t("nation"), F.col("s_nationkey") == F.col("n_nationkey"))
        .join(t("region"), F.col("n_regionkey") == F.col("r_regionkey"))
        .where((F.col("r_name") == "ASIA") & (F.col("o_orderdate") >= F.lit(start)) & (F.col("o_orderdate") < F.lit(datetime.date(1995, 1, 1))))
        .groupBy("n_name")
        .agg(F.sum(revenue()).alias("revenue"))
        .orderBy(F.col("revenue").desc())
    )
    assert_answer(5, df.collect(), df.columns)


def test_q6_dataframe(tpch):
    df = (
        tpch.table("lineitem")
        .filter("l_shipdate >= date '1994-01-01' and l_shipdate < date '1995-01-01'")
        .filter(F.col("l_discount").between(0.05, 0.07))
        .filter(F.col("l_quantity") < 24)
        .agg(F.sum(F.col("l_extendedprice") * F.col("l_discount")).alias("revenue"))
    )
    assert_answer(6, df.collect(), df.columns)


def test_q10_dataframe(tpch):
    t = tpch.table
    orders = t("orders").where((F.col("o_orderdate") >= "1993-10-01") & (F.col("o_orderdate") < "1994-01-01"))
    df = (
        t("customer")
        .join(orders, F.col("c_custkey") == F.col("o_custkey"))
        .join(t("lineitem").where(F.col("l_returnflag") == "R"), F.col("l_orderkey") == F.col("o_orderkey"))
        .join(t("nation"), F.col("c_nationkey") == F.col("n_nationkey"))
        .groupBy("c_custkey", "c_name", "c_acctbal", "c_phone", "n_name", "c_address", "c_comment")
        .agg(F.sum(revenue()).alias("revenue"))
        .select("c_custkey", "c_name", "revenue", "c_acctbal", "n_name", "c_address", "c_phone", "c_comment")
        .orderBy(F.desc("revenue"))
        .limit(20)
    )
    assert_answer(10, df.collect(), df.columns)


def test_q18_dataframe(tpch):
    t = tpch.table
    big = (
        t("lineitem")
        .groupBy("l_orderkey")
        .agg(F.sum("l_quantity").alias("total"))
        .where(F.col("total") > 300)
        .select(F.col("l_orderkey").alias("big_key"))
    )
    df = (
        t("orders")
        .join(big, F.col("o_orderkey") == F.col("big_key"), "left_semi")
        .join(t("customer"), F.col("c_custkey") == F.col("o_custkey"))
        .join(t("lineitem"), F.col("o_orderkey") == F.col("l_orderkey"))
        .groupBy("c_name", "c_custkey", "o_orderkey", "o_orderdate", "o_totalprice")
        .agg(F.sum("l_quantity"))
        .orderBy(F.desc("o_totalprice"), "o_orderdate")
        .limit(100)
    )
    assert_answer(18, df.collect(), df.columns)
