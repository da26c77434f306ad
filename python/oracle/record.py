"""Records Apache Spark's answers for the differential test's cases.

Runs every case of `cases.py` on Apache Spark itself (the full `pyspark` package, local mode,
a JVM) and writes the outcomes to testdata/spark-oracle/answers.jsonl, one JSON object per
line, sorted by case id. The answers are checked in, so CI compares Ember against them
without a JVM. Run it through scripts/spark-oracle.sh, which makes the virtualenv:

    scripts/spark-oracle.sh
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
ANSWERS = HERE.parents[1] / "testdata" / "spark-oracle" / "answers.jsonl"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ANSWERS)
    args = parser.parse_args()

    # Collected timestamps become naive datetimes in the process's zone: UTC on both sides.
    os.environ["TZ"] = "UTC"
    time.tzset()
    import pyspark
    from pyspark.sql import SparkSession

    from cases import cases
    from evaluate import evaluate, prepare

    spark = (
        SparkSession.builder.master("local[1]")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", "4g")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("OFF")
    prepare(spark)
    selected = cases()
    started = time.monotonic()
    outcomes = evaluate(
        spark, selected, progress=lambda n: print(f"\r{n}/{len(selected)}", end="", file=sys.stderr)
    )
    print(file=sys.stderr)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as out:
        header = {"spark": pyspark.__version__, "cases": len(selected)}
        out.write(json.dumps({"_recorded_with": header}) + "\n")
        for case_id in sorted(outcomes):
            out.write(json.dumps({"id": case_id, **outcomes[case_id]}, ensure_ascii=False) + "\n")
    print(
        f"recorded {len(outcomes)} cases with Spark {pyspark.__version__} "
        f"in {time.monotonic() - started:.0f} s to {args.out}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
