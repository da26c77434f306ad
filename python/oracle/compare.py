"""The differential test: Ember against Apache Spark's recorded answers.

Evaluates every case of `cases.py` on a real `ember server` through the PySpark client and
compares each outcome with the answer Apache Spark gave (testdata/spark-oracle/answers.jsonl,
made by record.py): the column's name, its Spark type, every row's value (doubles to 12
significant digits, NaN equal to NaN, decimals by value), or the error condition when Spark
raised one.

`python/oracle/differences.txt` lists the cases where Ember still differs, each with what
differed. The run fails when a case that is not listed differs (a regression) or when a listed
one matches (the list must shrink as Ember improves). `--update` rewrites the list.

    target/ember-py/bin/python python/oracle/compare.py            # check against the list
    target/ember-py/bin/python python/oracle/compare.py --update   # rewrite the list
"""

import argparse
import collections
import decimal
import json
import math
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from ember_server import Server  # noqa: E402

ANSWERS = HERE.parents[1] / "testdata" / "spark-oracle" / "answers.jsonl"
DIFFERENCES = HERE / "differences.txt"


def load_answers():
    answers = {}
    header = {}
    with open(ANSWERS, encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            if "_recorded_with" in record:
                header = record["_recorded_with"]
                continue
            answers[record.pop("id")] = record
    return header, answers


def same_value(expected, actual):
    if isinstance(expected, dict) and isinstance(actual, dict):
        if "float" in expected and "float" in actual:
            want, got = float(expected["float"]), float(actual["float"])
            if math.isnan(want) or math.isnan(got):
                return math.isnan(want) and math.isnan(got)
            return want == got or math.isclose(want, got, rel_tol=1e-12)
        if "decimal" in expected and "decimal" in actual:
            # The same number in another scale (1E-10, 1.00E-10): the type carries the scale.
            return decimal.Decimal(expected["decimal"]) == decimal.Decimal(actual["decimal"])
        return expected.keys() == actual.keys() and all(
            same_value(expected[key], actual[key]) for key in expected
        )
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(map(same_value, expected, actual))
    return type(expected) is type(actual) and expected == actual


def short(value):
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def difference(expected, actual):
    """What differs between Spark's outcome and Ember's, or None when they agree."""
    if "error" in expected or "error" in actual:
        if expected.get("error") == actual.get("error"):
            return None
        if "error" not in actual:
            return f"Spark raised {expected['error']}, Ember answered"
        if "error" not in expected:
            return f"Ember raised {actual['error']}"
        return f"Spark raised {expected['error']}, Ember raised {actual['error']}"
    if expected["type"] != actual["type"]:
        return f"type {actual['type']}, Spark {expected['type']}"
    if expected["name"] != actual["name"]:
        return f"name {actual['name']!r}, Spark {expected['name']!r}"
    if len(expected["rows"]) != len(actual["rows"]):
        return f"{len(actual['rows'])} rows, Spark {len(expected['rows'])}"
    for index, (want, got) in enumerate(zip(expected["rows"], actual["rows"])):
        if not same_value(want, got):
            return f"row {index}: {short(got)}, Spark {short(want)}"
    return None


def kind(reason):
    if reason.startswith("type"):
        return "type"
    if reason.startswith("name"):
        return "name"
    if reason.startswith("row") or reason.endswith("rows"):
        return "value"
    return "error"


def read_listed():
    listed = {}
    if DIFFERENCES.exists():
        for line in DIFFERENCES.read_text(encoding="utf-8").splitlines():
            if line and not line.startswith("#"):
                case_id, _, reason = line.partition("\t")
                listed[case_id] = reason
    return listed


def write_listed(found, spark_version):
    lines = [
        "# Cases of python/oracle/cases.py where Ember still differs from Apache Spark "
        f"{spark_version}:",
        "# case id, a tab, what differed. Rewritten by `python/oracle/compare.py --update`.",
    ]
    lines += [f"{case_id}\t{found[case_id]}" for case_id in sorted(found)]
    DIFFERENCES.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help="rewrite differences.txt")
    parser.add_argument("--show", metavar="TEXT", help="print the cases whose id contains TEXT")
    args = parser.parse_args()

    os.environ["TZ"] = "UTC"
    time.tzset()
    from pyspark.sql import SparkSession

    from cases import cases
    from evaluate import evaluate, prepare

    header, answers = load_answers()
    selected = cases()
    unrecorded = [case[0] for case in selected if case[0] not in answers]
    if unrecorded:
        sys.exit(
            f"{len(unrecorded)} cases have no recorded answer (first: {unrecorded[0]!r}); "
            "run scripts/spark-oracle.sh to record them with Apache Spark"
        )
    if args.show:
        selected = [case for case in selected if args.show in case[0]]

    server = Server("local[2]")
    started = time.monotonic()
    try:
        spark = SparkSession.builder.remote(server.url()).create()
        prepare(spark)
        outcomes = evaluate(spark, selected)
        spark.stop()
    finally:
        server.stop()
    elapsed = time.monotonic() - started

    found = {}
    for case in selected:
        reason = difference(answers[case[0]], outcomes[case[0]])
        if reason:
            found[case[0]] = reason
    if args.show:
        for case in selected:
            print(case[0], "->", found.get(case[0], "matches"))
            print("   spark:", short(answers[case[0]]))
            print("   ember:", short(outcomes[case[0]]))
        return

    matched = len(selected) - len(found)
    kinds = collections.Counter(kind(reason) for reason in found.values())
    print(
        f"Spark oracle: {matched} of {len(selected)} cases match Apache Spark "
        f"{header.get('spark', '?')} ({100 * matched / len(selected):.1f} %) in {elapsed:.0f} s; "
        "differences by kind: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
    )
    if args.update:
        write_listed(found, header.get("spark", "?"))
        print(f"wrote {len(found)} differences to {DIFFERENCES}")
        return
    listed = read_listed()
    regressions = sorted(set(found) - set(listed))
    fixed = sorted(set(listed) - set(found))
    for case_id in regressions:
        print(f"REGRESSION {case_id}: {found[case_id]}")
    for case_id in fixed:
        print(f"NOW MATCHES (remove it from {DIFFERENCES.name}) {case_id}")
    if regressions or fixed:
        sys.exit(1)


if __name__ == "__main__":
    main()
