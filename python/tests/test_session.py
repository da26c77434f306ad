"""Sessions, settings, authentication, interrupts, artifacts and plan analysis."""

import datetime
import threading
import time
from zoneinfo import ZoneInfo

import pytest
from pyspark.errors.exceptions.connect import SparkConnectException, SparkConnectGrpcException

from conftest import Server, connect


def test_version_and_config(spark):
    assert spark.version == "4.2.0"
    spark.conf.set("spark.sql.shuffle.partitions", "3")
    assert spark.conf.get("spark.sql.shuffle.partitions") == "3"
    spark.conf.set("my.app.setting", "x")
    assert spark.conf.get("my.app.setting") == "x"
    assert spark.conf.get("no.such.key", "fallback") == "fallback"
    spark.conf.unset("my.app.setting")
    assert spark.conf.get("my.app.setting", None) is None
    assert spark.conf.isModifiable("spark.sql.shuffle.partitions")
    assert not spark.conf.isModifiable("spark.master")
    assert "spark.sql.session.timeZone" in spark.conf.getAll
    with pytest.raises(Exception, match="SQL_CONF_NOT_FOUND"):
        spark.conf.get("no.such.key")
    with pytest.raises(Exception, match="CANNOT_MODIFY_STATIC_CONFIG"):
        spark.conf.set("spark.master", "local[1]")


def test_session_time_zone_applies(spark):
    spark.conf.set("spark.sql.session.timeZone", "America/New_York")
    row = spark.sql("select timestamp '2024-01-01 12:00:00' as t").first()
    # A TIMESTAMP is an instant, read in the session's zone; PySpark shows it in the local zone.
    noon_in_new_york = datetime.datetime(2024, 1, 1, 12, tzinfo=ZoneInfo("America/New_York"))
    assert row.t == noon_in_new_york.astimezone().replace(tzinfo=None)


def test_sessions_are_isolated(server):
    first, second = connect(server.url()), connect(server.url())
    try:
        first.range(3).createOrReplaceTempView("only_in_first")
        first.conf.set("spark.sql.shuffle.partitions", "5")
        assert first.table("only_in_first").count() == 3
        with pytest.raises(Exception, match="TABLE_OR_VIEW_NOT_FOUND"):
            second.table("only_in_first").collect()
        assert second.conf.get("spark.sql.shuffle.partitions") != "5"
    finally:
        first.stop()
        second.stop()


def test_a_token_is_required_when_configured():
    server = Server("local[1]", "--conf", "ember.connect.token=s3cret")
    try:
        good = connect(server.url("s3cret"))
        assert good.range(2).count() == 2
        good.stop()
        for url in (server.url(), server.url("wrong")):
            refused = connect(url)
            with pytest.raises((SparkConnectGrpcException, SparkConnectException)) as error:
                refused.range(1).collect()
            assert "UNAUTHENTICATED" in str(error.value) or "token" in str(error.value)
            # Stopped while the server runs: a session left open would retry against a
            # stopped server when the interpreter exits.
            refused.stop()
    finally:
        server.stop()


def test_interrupt_cancels_a_running_query(spark):
    errors = []

    def run():
        try:
            spark.sql("select count(*) from range(0, 100000000000) a").collect()
        except Exception as e:  # the interrupted query's error
            errors.append(e)

    worker = threading.Thread(target=run)
    worker.start()
    interrupted = []
    deadline = time.time() + 30
    while not interrupted and time.time() < deadline:
        time.sleep(0.3)
        interrupted = spark.interruptAll()
    worker.join(60)
    assert interrupted, "nothing was running to interrupt"
    assert not worker.is_alive(), "the query kept running"
    assert errors and "OPERATION_CANCELED" in str(errors[0])
    assert spark.range(3).count() == 3


def test_artifacts_are_stored_and_their_status_reported(spark, tmp_path):
    path = tmp_path / "helper.py"
    path.write_text("VALUE = 1\n")
    spark.addArtifacts(str(path), pyfile=True)
    # The client's cache protocol: upload a blob, then ask whether the server has it.
    manager = spark._client._artifact_manager
    digest = spark._client.cache_artifact(b"some bytes")
    assert manager.is_cached_artifact(digest)
    assert not manager.is_cached_artifact("0" * 64)


def test_analyze_plan_answers(spark, tmp_path):
    df = spark.range(10).selectExpr("id", "cast(id as string) as s")
    assert df.schema.simpleString() == "struct<id:bigint,s:string>"
    plan = df._explain_string(extended=True)
    assert "== Physical Plan ==" in plan and "== Optimized Logical Plan ==" in plan
    assert not df.isStreaming
    path = tmp_path / "t.parquet"
    df.write.parquet(str(path))
    files = spark.read.parquet(str(path)).inputFiles()
    assert files and all(str(path) in f for f in files)
    assert df.sameSemantics(spark.range(10).selectExpr("id", "cast(id as string) as s"))
    assert df.semanticHash() == spark.range(10).selectExpr("id", "cast(id as string) as s").semanticHash()
    assert df.persist() is df and df.count() == 10
    df.unpersist()
    # A DDL schema string is parsed by the server (AnalyzePlan DDLParse).
    parsed = spark.createDataFrame([(1, "x")], "a int, b string").schema
    assert parsed.simpleString() == "struct<a:int,b:string>"


CLIENT = """
import sys
from pyspark.sql import SparkSession
spark = SparkSession.builder.remote(sys.argv[1]).create()
try:
    print("count", spark.range(3).count())
except Exception as e:
    print("refused", type(e).__name__, str(e)[:200])
"""


def test_remote_clients_send_the_token_over_tls(tmp_path):
    """PySpark sends a token to any host but localhost only over TLS: the server serves TLS
    from ember.connect.tls.*, and the token is checked inside it."""
    import os
    import subprocess
    import sys

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )
    server = Server(
        "local[1]", "--conf", "ember.connect.token=s3cret",
        "--conf", f"ember.connect.tls.cert={cert}", "--conf", f"ember.connect.tls.key={key}",
    )
    try:
        env = dict(os.environ, GRPC_DEFAULT_SSL_ROOTS_FILE_PATH=str(cert))
        script = tmp_path / "client.py"
        script.write_text(CLIENT)
        def client(token):
            url = f"sc://127.0.0.1:{server.port}/;token={token}"
            done = subprocess.run([sys.executable, str(script), url], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
            return done.stdout + done.stderr[-2000:]
        assert "count 3" in client("s3cret")
        refused = client("wrong")
        assert "refused" in refused and "token" in refused, refused
    finally:
        server.stop()


def test_unset_returns_an_ember_setting_to_its_starting_value(spark):
    start = spark.conf.get("spark.sql.session.timeZone")
    spark.conf.set("spark.sql.session.timeZone", "America/Los_Angeles")
    assert spark.range(1).selectExpr("current_timezone() AS tz").first().tz == "America/Los_Angeles"
    spark.conf.unset("spark.sql.session.timeZone")
    assert spark.conf.get("spark.sql.session.timeZone") == start
    assert spark.range(1).selectExpr("current_timezone() AS tz").first().tz == start
