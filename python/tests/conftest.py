"""Fixtures for the Spark Connect suite: a real `ember server` process per master, and the
real PySpark client (pyspark-client from PyPI) talking to it over gRPC."""

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EMBER = Path(os.environ.get("EMBER_BIN", REPO / "target" / "debug" / "ember"))
MASTERS = ["local[2]", "local-cluster[2,1,1024]"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """An `ember server` process; its log is kept for failure messages."""

    def __init__(self, master, *extra):
        self.port = free_port()
        self.log = []
        # Its own working directory: saved tables go to ./spark-warehouse, as in Spark.
        self.workdir = tempfile.TemporaryDirectory(prefix="ember-server-")
        self.process = subprocess.Popen(
            [str(EMBER), "server", "--master", master, "--port", str(self.port), *extra],
            cwd=self.workdir.name,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        ready = threading.Event()

        def read():
            for line in self.process.stderr:
                self.log.append(line)
                if "serving Spark Connect" in line:
                    ready.set()

        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(120):
            self.stop()
            raise RuntimeError("ember server did not start:\n" + "".join(self.log))

    def url(self, token=None):
        if token:
            # PySpark sends a token in the clear only to `localhost`; elsewhere it needs TLS.
            return f"sc://localhost:{self.port}/;token={token}"
        return f"sc://127.0.0.1:{self.port}"

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.workdir.cleanup()


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
