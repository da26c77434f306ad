"""Writes with Spark's save modes, saved tables, SQL DDL/DML and the catalog calls."""

import os

import pytest
from pyspark.errors import AnalysisException
from pyspark.sql import Row
from pyspark.sql import functions as F


@pytest.mark.parametrize("fmt", ["parquet", "csv", "json"])
def test_write_modes(spark, tmp_path, fmt):
    path = str(tmp_path / f"out.{fmt}")
    df = spark.range(5).withColumn("s", F.col("id").cast("string"))

    def read():
        reader = spark.read.format(fmt)
        if fmt == "csv":
            reader = reader.option("header", "true").option("inferSchema", "true")
        return sorted(r.id for r in reader.load(path).collect())

    writer = df.write.format(fmt)
    if fmt == "csv":
        writer = writer.option("header", "true")
    writer.save(path)
    assert read() == [0, 1, 2, 3, 4]
    with pytest.raises(AnalysisException) as error:
        writer.save(path)
    assert error.value.getCondition() == "PATH_ALREADY_EXISTS"
    writer.mode("ignore").save(path)
    assert read() == [0, 1, 2, 3, 4]
    writer.mode("append").save(path)
    assert read() == sorted([0, 1, 2, 3, 4] * 2)
    writer.mode("overwrite").save(path)
    assert read() == [0, 1, 2, 3, 4]


def test_partition_by_writes_directories(spark, tmp_path):
    path = tmp_path / "parts"
    spark.createDataFrame([(1, "a"), (2, "b"), (3, "a")], ["n", "k"]).write.partitionBy("k").parquet(str(path))
    assert sorted(os.listdir(path)) == ["k=a", "k=b"]
    back = spark.read.parquet(str(path))
    assert sorted((r.n, r.k) for r in back.collect()) == [(1, "a"), (2, "b"), (3, "a")]


def test_a_failed_write_leaves_nothing_behind(spark, tmp_path):
    path = tmp_path / "never"
    with pytest.raises(Exception):
        spark.range(3).select((F.lit(1) / (F.col("id") - 1)).alias("x")).write.parquet(str(path))
    assert not path.exists()
    assert [p for p in os.listdir(tmp_path) if not p.startswith(".pytest")] == []


def test_save_as_table_is_seen_by_other_sessions(server, tmp_path):
    from conftest import connect

    first, second = connect(server.url()), connect(server.url())
    try:
        first.range(4).write.mode("overwrite").saveAsTable("saved_numbers")
        assert first.table("saved_numbers").count() == 4
        assert second.table("saved_numbers").count() == 4
        assert any(t.name == "saved_numbers" and not t.isTemporary for t in second.catalog.listTables())
        first.range(2).write.mode("append").saveAsTable("saved_numbers")
        assert first.table("saved_numbers").count() == 6
        with pytest.raises(AnalysisException):
            first.range(1).write.saveAsTable("saved_numbers")
    finally:
        first.stop()
        second.stop()


def test_sql_ddl_and_dml(spark):
    spark.sql("create table events (id int, name string)")
    spark.sql("insert into events values (1, 'a'), (2, 'b')")
    assert sorted(r.id for r in spark.sql("select id from events").collect()) == [1, 2]
    spark.sql("create view recent as select * from events where id > 1")
    assert spark.table("recent").collect() == [Row(id=2, name="b")]


def test_catalog_calls(spark):
    spark.range(3).createOrReplaceTempView("tmp_numbers")
    assert spark.catalog.tableExists("tmp_numbers")
    assert not spark.catalog.tableExists("nothing_here")
    tables = {t.name: t for t in spark.catalog.listTables()}
    assert tables["tmp_numbers"].isTemporary
    columns = spark.catalog.listColumns("tmp_numbers")
    assert [(c.name, c.dataType) for c in columns] == [("id", "bigint")]
    assert spark.catalog.currentDatabase() == "default"
    assert spark.catalog.dropTempView("tmp_numbers")
    assert not spark.catalog.tableExists("tmp_numbers")
    assert not spark.catalog.dropTempView("tmp_numbers")


def test_managed_tables_through_sql_and_the_catalog(spark):
    spark.sql("DROP TABLE IF EXISTS managed_people")
    spark.sql("CREATE TABLE managed_people (name STRING, age INT) USING parquet")
    spark.sql("INSERT INTO managed_people VALUES ('a', 1), ('b', 2)")
    table = spark.catalog.getTable("managed_people")
    assert (table.tableType, table.isTemporary) == ("MANAGED", False)
    assert spark.table("managed_people").count() == 2
    spark.catalog.truncateTable("managed_people")
    assert spark.table("managed_people").count() == 0
    spark.sql("INSERT INTO managed_people VALUES ('c', 3)")
    spark.catalog.dropTable("managed_people")
    assert not spark.catalog.tableExists("managed_people")
    # Dropping deleted the files: a new table of the same name starts empty.
    spark.sql("CREATE TABLE managed_people (name STRING, age INT) USING parquet")
    assert spark.table("managed_people").count() == 0
    spark.sql("DROP TABLE managed_people")
    with pytest.raises(AnalysisException, match="TABLE_OR_VIEW_NOT_FOUND"):
        spark.catalog.dropTable("managed_people")
    with pytest.raises(AnalysisException, match="TABLE_OR_VIEW_NOT_FOUND"):
        spark.catalog.cacheTable("managed_people")


def test_views_and_functions_in_the_catalog(spark):
    spark.sql("CREATE OR REPLACE TEMP VIEW v_numbers AS SELECT 1 AS c")
    assert "v_numbers" in [v.name for v in spark.catalog.listViews(pattern="v_num*")]
    spark.catalog.dropView("v_numbers")
    assert not spark.catalog.tableExists("v_numbers")
    names = [f.name for f in spark.catalog.listFunctions(pattern="transform*")]
    assert names == ["transform", "transform_keys", "transform_values"]


def test_databases_through_sql_and_the_catalog(spark):
    spark.catalog.dropDatabase("db_sales", ifExists=True, cascade=True)
    assert not spark.catalog.databaseExists("db_sales")
    spark.sql("CREATE DATABASE db_sales")
    assert spark.catalog.databaseExists("spark_catalog.db_sales")
    names = [d.name for d in spark.catalog.listDatabases("db_*")]
    assert names == ["db_sales"]
    with pytest.raises(AnalysisException, match="SCHEMA_ALREADY_EXISTS"):
        spark.sql("CREATE DATABASE db_sales")
    spark.sql("CREATE DATABASE IF NOT EXISTS db_sales")
    spark.sql("CREATE TABLE db_sales.orders AS SELECT 1 AS id")
    with pytest.raises(AnalysisException, match="SCHEMA_NOT_EMPTY"):
        spark.sql("DROP DATABASE db_sales")
    spark.sql("DROP DATABASE db_sales CASCADE")
    assert not spark.catalog.databaseExists("db_sales")
    assert [c.name for c in spark.catalog.listCatalogs("spark*")] == ["spark_catalog"]
    assert spark.catalog.listCatalogs("hive*") == []
