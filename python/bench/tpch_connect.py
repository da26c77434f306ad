"""TPC-H through the PySpark client (Spark Connect to `ember server`) and through `ember sql`'s
engine (`ember bench tpch`, the same session in process), in one run, on the same data and
master. Prints per-query medians and the ratio Connect / ember sql.

    target/ember-py/bin/python python/bench/tpch_connect.py --scale 1 --runs 3
"""

import argparse
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TABLES = ["customer", "lineitem", "nation", "orders", "part", "partsupp", "region", "supplier"]


def statements(number):
    text = (REPO / "examples" / "tpch" / f"q{number:02}.sql").read_text()
    for statement in text.split(";"):
        body = "\n".join(l for l in statement.splitlines() if not l.strip().startswith("--")).strip()
        if body:
            yield body


def ember_sql_timings(ember, master, data, scale, runs):
    """Per-query medians (ms) from `ember bench tpch`: ember sql's session, in process."""
    out = subprocess.run(
        [ember, "bench", "tpch", "--master", master, "--scale", str(scale), "--data", str(data),
         "--runs", str(runs), "--log-level", "WARN"],
        check=True, capture_output=True, text=True,
    ).stdout
    timings = {}
    for line in out.splitlines():
        match = re.match(r"Q(\d+)\s+\d+\s+([\d.]+)", line)
        if match:
            timings[int(match.group(1))] = float(match.group(2))
    return timings


def start_server(ember, master):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen(
        [ember, "server", "--master", master, "--port", str(port), "--log-level", "WARN"],
        stderr=subprocess.PIPE, text=True,
    )
    ready = threading.Event()

    def read():
        for line in process.stderr:
            if "serving Spark Connect" in line:
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    if not ready.wait(120):
        process.kill()
        raise RuntimeError("ember server did not start")
    return process, port


def connect_timings(ember, master, data, runs):
    from pyspark.sql import SparkSession

    process, port = start_server(ember, master)
    try:
        spark = SparkSession.builder.remote(f"sc://127.0.0.1:{port}").create()
        for table in TABLES:
            spark.read.parquet(str(data / table)).createOrReplaceTempView(table)
        timings = {}
        for number in range(1, 23):
            samples = []
            for _ in range(runs):
                started = time.perf_counter()
                for text in statements(number):
                    spark.sql(text).collect()
                samples.append((time.perf_counter() - started) * 1000)
            timings[number] = statistics.median(samples)
            print(f"Q{number:02} via Spark Connect: {timings[number]:.1f} ms", file=sys.stderr)
        spark.stop()
        return timings
    finally:
        process.terminate()
        process.wait(30)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ember", default=str(REPO / "target" / "release" / "ember"))
    parser.add_argument("--scale", default="1")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--data", default=None)
    args = parser.parse_args()
    data = Path(args.data or REPO / "tpch-data" / f"sf{args.scale}")
    if not (data / "_SUCCESS").is_file():
        subprocess.run([args.ember, "datagen", "tpch", "--scale", args.scale, "--out", str(data)], check=True)
    sql = ember_sql_timings(args.ember, args.master, data, args.scale, args.runs)
    connect = connect_timings(args.ember, args.master, data, args.runs)
    print(f"TPC-H scale {args.scale} on {args.master}, {args.runs} run(s) per query, medians")
    print(f"{'query':<6}{'ember sql ms':>14}{'connect ms':>14}{'ratio':>8}")
    for number in range(1, 23):
        print(f"Q{number:02}  {sql[number]:>14.1f}{connect[number]:>14.1f}{connect[number] / sql[number]:>8.3f}")
    total_sql, total_connect = sum(sql.values()), sum(connect.values())
    print(f"{'total':<6}{total_sql:>14.1f}{total_connect:>14.1f}{total_connect / total_sql:>8.3f}")


if __name__ == "__main__":
    main()
