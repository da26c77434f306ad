"""Fixtures for the Spark Connect suite: a real `ember server` process per master, and the
real PySpark client (pyspark-client from PyPI) talking to it over gRPC."""

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ember_server import EMBER, REPO, Server, free_port  # noqa: E402,F401

MASTERS = ["local[2]", "local-cluster[2,1,1024]"]


def connect(url):
    from pyspark.sql import SparkSession

    # A new session each time: getOrCreate would hand back a cached one.
    return SparkSession.builder.remote(url).create()


@pytest.fixture(scope="session", params=MASTERS)
def server(request):
    srv = Server(request.param)
    yield srv
    srv.stop()


@pytest.fixture()
def spark(server):
    session = connect(server.url())
    yield session
    session.stop()


@pytest.fixture(scope="session")
def tpch_dir():
    """TPC-H at scale 0.1, generated once by `ember datagen`."""
    out = REPO / "target" / "pytest-data" / "tpch-sf0.1"
    if not (out / "_SUCCESS").is_file():
        if out.exists():
            import shutil

            shutil.rmtree(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [str(EMBER), "datagen", "tpch", "--scale", "0.1", "--out", str(out)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return out


TPCH_TABLES = ["customer", "lineitem", "nation", "orders", "part", "partsupp", "region", "supplier"]


@pytest.fixture()
def tpch(spark, tpch_dir):
    for table in TPCH_TABLES:
        spark.read.parquet(str(tpch_dir / table)).createOrReplaceTempView(table)
    return spark
