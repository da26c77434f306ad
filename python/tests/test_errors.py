"""Errors reach PySpark as the exceptions its users catch, with Spark's error classes."""

import pytest
from pyspark.errors import AnalysisException, ArithmeticException, NumberFormatException, ParseException
from pyspark.sql import Row
from pyspark.sql import functions as F


def test_unresolved_column_names_the_column(spark):
    df = spark.range(3)
    with pytest.raises(AnalysisException) as error:
        df.select("no_such_column").collect()
    assert error.value.getCondition() == "UNRESOLVED_COLUMN.WITH_SUGGESTION"
    assert "no_such_column" in str(error.value)
    assert error.value.getMessageParameters()["objectName"] == "`no_such_column`"


def test_missing_table_and_bad_sql(spark):
    with pytest.raises(AnalysisException) as error:
        spark.table("nowhere").collect()
    assert error.value.getCondition() == "TABLE_OR_VIEW_NOT_FOUND"
    with pytest.raises(ParseException):
        spark.sql("selec 1").collect()
    with pytest.raises(AnalysisException) as error:
        spark.sql("select * from nowhere").collect()
    assert "nowhere" in str(error.value)


def test_arithmetic_and_cast_errors_follow_ansi_mode(spark):
    with pytest.raises(ArithmeticException) as error:
        spark.range(1).select(F.lit(1) / F.lit(0)).collect()
    assert error.value.getCondition() == "DIVIDE_BY_ZERO"
    with pytest.raises(ArithmeticException):
        spark.range(3).select(F.col("id") / (F.col("id") - 1)).collect()
    with pytest.raises(ArithmeticException) as error:
        spark.sql("select cast(1 as decimal(5,2)) / cast(0 as decimal(5,2))").collect()
    assert error.value.getCondition() == "DIVIDE_BY_ZERO"
    with pytest.raises(NumberFormatException) as error:
        spark.sql("select cast('abc' as int)").collect()
    assert error.value.getCondition() == "CAST_INVALID_INPUT"
    # try_cast tolerates what cast refuses.
    assert spark.range(1).select(F.lit("abc").try_cast("int").alias("v")).first().v is None


def test_unknown_function_is_an_analysis_error(spark):
    with pytest.raises(AnalysisException) as error:
        spark.range(1).select(F.call_function("no_such_function", F.col("id"))).collect()
    assert error.value.getCondition() == "UNRESOLVED_ROUTINE"


def test_reading_a_missing_path(spark, tmp_path):
    with pytest.raises(AnalysisException) as error:
        spark.read.parquet(str(tmp_path / "missing")).collect()
    assert error.value.getCondition() == "PATH_NOT_FOUND"


def test_malformed_function_calls_fail_cleanly_and_the_server_keeps_serving(spark):
    # Each once panicked or could leave the client waiting; each must end with an error the
    # client receives, of Spark's analysis class, and the next request must still work.
    calls = [
        F.call_function("to_date"),
        F.call_function("to_timestamp"),
        F.call_function("split"),
        F.call_function("regexp_extract", F.lit("a")),
        F.call_function("year", F.lit(1), F.lit(2)),
        F.call_function("sort_array", F.lit(1)),
        F.call_function("count"),
    ]
    for call in calls:
        with pytest.raises(AnalysisException):
            spark.range(1).select(call).collect()
        assert spark.range(2).count() == 2


def test_raise_error_and_assert_true_fail_only_rows_that_reach_them(spark):
    df = spark.createDataFrame([(1,), (2,)], ["v"])
    kept = df.select(F.when(F.col("v") > 0, F.col("v")).otherwise(F.raise_error("never")).alias("v"))
    assert [r.v for r in kept.orderBy("v").collect()] == [1, 2]
    assert df.select(F.assert_true(F.col("v") > 0).alias("ok")).collect() == [Row(ok=None)] * 2
    with pytest.raises(Exception) as raised:
        df.select(F.assert_true(F.col("v") > 1, "v must exceed 1")).collect()
    assert getattr(raised.value, "getCondition", lambda: None)() == "USER_RAISED_EXCEPTION"
    assert "v must exceed 1" in str(raised.value)
