#!/usr/bin/env python3
"""Computes the TPC-H reference answers with DuckDB, an engine independent of Ember.

Reads the Parquet tables that `ember datagen tpch` wrote, runs examples/tpch/qNN.sql on
DuckDB and writes each query's result as CSV with a header row. The answers are checked in
under testdata/ so the test suite needs neither DuckDB nor this script:

    ember datagen tpch --scale 0.1 --out /tmp/sf0.1
    python scripts/tpch_reference_answers.py --data /tmp/sf0.1 --out testdata/tpch/sf0.1
"""

import argparse
import csv
import datetime
import decimal
import pathlib

import duckdb

TABLES = ["lineitem", "orders", "partsupp", "part", "customer", "supplier", "nation", "region"]
QUERIES = pathlib.Path(__file__).resolve().parent.parent / "examples" / "tpch"


def cell(value):
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (datetime.date, decimal.Decimal)):
        return str(value)
    return str(value)


def run_query(con, sql):
    """Runs every statement; returns (columns, rows) of the last one that returned rows."""
    result = None
    for statement in sql.split(";"):
        code = "\n".join(l for l in statement.splitlines() if not l.strip().startswith("--")).strip()
        if not code:
            continue
        cursor = con.execute(code)
        if cursor.description and code.lower().startswith(("select", "with")):
            result = ([d[0] for d in cursor.description], cursor.fetchall())
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", required=True, type=pathlib.Path)
    parser.add_argument("--out", required=True, type=pathlib.Path)
    args = parser.parse_args()

    con = duckdb.connect()
    for table in TABLES:
        con.execute(f"create view {table} as select * from read_parquet('{args.data / table}/*.parquet')")
    args.out.mkdir(parents=True, exist_ok=True)
    for n in range(1, 23):
        columns, rows = run_query(con, (QUERIES / f"q{n:02}.sql").read_text())
        with open(args.out / f"q{n:02}.csv", "w", newline="") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(columns)
            writer.writerows([cell(v) for v in row] for row in rows)
        print(f"q{n:02}: {len(rows)} rows")


if __name__ == "__main__":
    main()
