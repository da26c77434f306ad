"""Compares query results with the TPC-H reference answers (DuckDB, testdata/tpch/sf0.1),
with the same tolerance rules as the Rust suite's comparer."""

import csv
import datetime
import decimal
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def query_text(number):
    return (REPO / "examples" / "tpch" / f"q{number:02}.sql").read_text()


def is_ordered(sql):
    statements = [s for s in sql.split(";") if "select" in s.lower()]
    return "order by" in (statements[-1].lower() if statements else "")


def cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    return str(value)


def places(text):
    return len(text.split(".", 1)[1]) if "." in text else None


def cells_match(want, got):
    if want == got:
        return True
    try:
        a, b = float(want), float(got)
    except ValueError:
        return False
    diff = abs(a - b)
    p, q = places(want), places(got)
    rounding = 10 ** -min(p, q) * 0.999 if p is not None and q is not None else 0.0
    return diff <= 1e-6 or diff <= 1e-9 * max(abs(a), abs(b)) or diff <= rounding


def column_name(name):
    return re.sub(r"[a-z0-9_]+\.", "", name.lower())


def assert_answer(number, rows, columns, expected_csv=None):
    """`rows` (PySpark Rows) with `columns` give query `number`'s reference answer."""
    path = REPO / "testdata" / "tpch" / "sf0.1" / f"q{number:02}.csv"
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        expected = [row for row in reader]
    actual = [[cell(v) for v in row] for row in rows]
    assert [column_name(c) for c in columns] == [column_name(c) for c in header], (
        f"Q{number}: columns {columns} != {header}"
    )
    assert len(actual) == len(expected), f"Q{number}: {len(actual)} rows, expected {len(expected)}"
    if not is_ordered(query_text(number)):
        key = lambda r: [(0, float(c)) if re.fullmatch(r"-?\d+(\.\d+)?", c) else (1, c) for c in r]
        expected.sort(key=key)
        actual.sort(key=key)
    for index, (want, got) in enumerate(zip(expected, actual)):
        for column, (w, g) in enumerate(zip(want, got)):
            assert cells_match(w, g), (
                f"Q{number} row {index + 1} column {header[column]}: expected {w!r}, got {g!r}"
            )
