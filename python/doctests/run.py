"""PySpark's own documentation examples against a real `ember server`: the spec for Ember's
Spark compatibility.

Runs the docstrings of the installed PySpark client's modules the way PySpark's own `_test()`
functions run them (the module's globals, a `spark` session, the same doctest option flags),
one docstring at a time, and reports pass or fail for each. Docstrings whose examples need
what Ember does not offer by design (RDDs, pandas-on-Spark, streaming, Python UDFs) are
counted apart, by what their example code calls.

`python/doctests/failing.txt` lists every counted docstring that still fails, with a reason.
The run fails when a docstring that is not listed fails (a regression) or when a listed one
passes (the list must shrink as Ember improves): a ratchet that only moves forward. A docstring
whose outcome disagrees with the list is run twice more before it counts; one listed with a
reason starting `flaky:` (its expected output depends on file order or on state earlier
docstrings leave) is reported and does not move the ratchet.
`--update` rewrites the list from this run, each with the reason this run saw.

    target/ember-py/bin/python python/doctests/run.py            # check against the list
    target/ember-py/bin/python python/doctests/run.py --update   # rewrite the list
"""

import argparse
import contextlib
import doctest
import importlib
import io
import os
import re
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ember_server import REPO, Server  # noqa: E402

FAILING = Path(__file__).with_name("failing.txt")

# The modules PySpark's Connect tests run doctests for, with the flags their `_test()` uses.
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE | doctest.IGNORE_EXCEPTION_DETAIL
MODULES = {
    "pyspark.sql.connect.functions.builtin": FLAGS,
    "pyspark.sql.dataframe": FLAGS,
    "pyspark.sql.column": FLAGS,
    "pyspark.sql.window": FLAGS,
    "pyspark.sql.connect.group": doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
    "pyspark.sql.connect.readwriter": FLAGS,
    "pyspark.sql.connect.session": FLAGS,
    "pyspark.sql.connect.catalog": FLAGS,
}

# Example code that needs what Ember leaves out by design: the docstring is not counted.
OUT_OF_SCOPE = {
    "RDDs": re.compile(r"\.rdd\b|sparkContext|\bsc\.|parallelize|foreachPartition|\.foreach\("),
    "pandas-on-Spark": re.compile(r"pandas_api|pyspark\.pandas|\bps\."),
    "streaming": re.compile(r"readStream|writeStream|withWatermark|isStreaming|\.awaitTermination"),
    "Python UDFs": re.compile(
        r"@udf|@pandas_udf|@udtf|@arrow_udtf|\budf\(|pandas_udf|\budtf\(|arrow_udtf|"
        r"mapInPandas|mapInArrow|applyInPandas|applyInArrow|cogroup|registerJavaFunction|"
        r"spark\.udf\.|spark\.udtf\.|\.transformWithState"
    ),
}

# A listed docstring whose reason starts so passes or fails from run to run (its expected
# output depends on file listing order or on what earlier docstrings left behind); its
# outcome is reported and does not move the ratchet.
FLAKY = "flaky:"

# Per-docstring limit: a hung request must not hang the run.
TIMEOUT_SECONDS = 60


class Timeout(BaseException):
    """Not an Exception: PySpark's retry loop must not swallow it."""


def out_of_scope(test):
    source = "\n".join(example.source for example in test.examples)
    for reason, pattern in OUT_OF_SCOPE.items():
        if pattern.search(source):
            return reason
    return None


def prepare_globals(module_name, module, spark):
    """The globals PySpark's `_test()` gives this module's doctests."""
    globs = module.__dict__.copy()
    globs["spark"] = spark
    if module_name == "pyspark.sql.connect.session":
        from pyspark.sql import SparkSession

        globs["SparkSession"] = SparkSession
    return globs


def skipped_by_pyspark(module_name, module):
    """Docstrings PySpark's own `_test()` deletes before running its module."""
    if module_name == "pyspark.sql.connect.session":
        return {f"{module_name}.SparkSession", f"{module_name}.SparkSession.Builder.master"}
    if module_name == "pyspark.sql.dataframe":
        return {
            f"{module_name}.DataFrame.toJSON",
            f"{module_name}.DataFrame.rdd",
        }
    return set()


class Reporter(doctest.DocTestRunner):
    """Keeps the first failure of a docstring as its reason."""

    def __init__(self, flags):
        super().__init__(optionflags=flags, verbose=False)
        self.reason = None

    def report_failure(self, out, test, example, got):
        if self.reason is None:
            first = got.strip().splitlines()[0] if got.strip() else "(no output)"
            self.reason = f"output differs at `{one_line(example.source)}`: got {first[:160]}"

    def report_unexpected_exception(self, out, test, example, exc_info):
        if self.reason is None:
            kind, value = exc_info[0], exc_info[1]
            message = one_line(str(value))[:200]
            self.reason = f"{kind.__name__} at `{one_line(example.source)}`: {message}"


def one_line(text):
    return " ".join(text.split())[:120]


def run_one(test, flags):
    runner = Reporter(flags)

    def expire(signum, frame):
        raise Timeout(f"no answer within {TIMEOUT_SECONDS}s")

    signal.signal(signal.SIGALRM, expire)
    signal.alarm(TIMEOUT_SECONDS)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            result = runner.run(test, clear_globs=True)
    except Timeout as e:
        return False, f"hang: {e}"
    finally:
        signal.alarm(0)
    if result.failed:
        return False, runner.reason or "failed"
    return True, None


class ServerDied(RuntimeError):
    pass


def run_module(module_name, flags, url, server=None):
    from pyspark.sql import SparkSession

    module = importlib.import_module(module_name)
    spark = SparkSession.builder.remote(url).appName(f"{module_name} doctests").create()
    finder = doctest.DocTestFinder()
    skipped = skipped_by_pyspark(module_name, module)
    results = {}
    try:
        globs = prepare_globals(module_name, module, spark)
        tests = sorted(finder.find(module, module_name, globs=globs), key=lambda t: t.name)
        for test in tests:
            if not test.examples or test.name in skipped:
                continue
            excluded = out_of_scope(test)
            if excluded:
                results[test.name] = ("excluded", excluded)
                continue
            # Running clears a docstring's globals; a rerun starts from a copy of them.
            RERUN[test.name] = (test, flags, dict(test.globs))
            ok, reason = run_one(test, flags)
            results[test.name] = ("pass", None) if ok else ("fail", reason)
            if server and server.process.poll() is not None:
                raise ServerDied(
                    f"ember server exited during {test.name}:\n" + "".join(server.log[-60:])
                )
    except BaseException:
        with contextlib.suppress(Exception):
            spark.stop()
        raise
    SESSIONS.append(spark)
    return results


# Docstrings by name with what they need to run again, and the sessions they ran in.
RERUN = {}
SESSIONS = []


def settled(name, expected_pass):
    """Runs a docstring whose outcome disagreed with the list twice more: it is a real change
    only if both runs disagree too; otherwise its outcome depends on timing (flaky)."""
    test, flags, globs = RERUN[name]
    for _ in range(2):
        test.globs = dict(globs)
        ok, _ = run_one(test, flags)
        if ok == expected_pass:
            return False
    return True


def read_failing():
    listed = {}
    if FAILING.exists():
        for line in FAILING.read_text().splitlines():
            if not line.strip() or line.startswith("#"):
                continue
            name, _, reason = line.partition("\t")
            listed[name.strip()] = reason.strip()
    return listed


def write_failing(results, listed, client_version):
    lines = [
        "# PySpark documentation examples that still fail on Ember, one per line:",
        "# docstring<TAB>reason. Written by python/doctests/run.py --update; the run fails when",
        "# a docstring not listed here fails or a listed one passes.",
        f"# Client: pyspark-client {client_version}.",
    ]
    for name in sorted(results):
        status, reason = results[name]
        kept = listed.get(name, "")
        if kept.startswith(FLAKY):
            lines.append(f"{name}\t{kept}")
        elif status == "fail":
            lines.append(f"{name}\t{reason or kept}")
    FAILING.write_text("\n".join(lines) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help="rewrite failing.txt from this run")
    parser.add_argument("--remote", help="an already running server (sc://…); else one is started")
    parser.add_argument("--master", default="local[4]", help="master of the started server")
    parser.add_argument("--module", action="append", help="only these modules (repeatable)")
    parser.add_argument("--verbose", action="store_true", help="print every docstring's outcome")
    args = parser.parse_args()

    import pyspark

    # dataframe's doctests run from SPARK_HOME in PySpark; a scratch directory here.
    scratch = tempfile.TemporaryDirectory(prefix="ember-doctests-cwd-")
    os.chdir(scratch.name)
    server = None if args.remote else Server(args.master)
    try:
        return run_and_check(args, server, pyspark.__version__)
    finally:
        for spark in SESSIONS:
            with contextlib.suppress(Exception):
                spark.stop()
        if server:
            server.stop()


def run_and_check(args, server, client_version):
    url = args.remote or f"sc://127.0.0.1:{server.port}"
    modules = {m: MODULES[m] for m in args.module} if args.module else MODULES
    results = {}
    started = time.monotonic()
    for module_name, flags in modules.items():
        module_results = run_module(module_name, flags, url, server)
        results.update(module_results)
        counted = [s for s, _ in module_results.values() if s != "excluded"]
        print(
            f"{module_name}: {counted.count('pass')} of {len(counted)} pass"
            f" ({len(module_results) - len(counted)} excluded)",
            flush=True,
        )
        if server and server.process.poll() is not None:
            print("ember server exited:\n" + "".join(server.log[-40:]), file=sys.stderr)
            return 1

    counted = {n: r for n, r in results.items() if r[0] != "excluded"}
    passed = sum(1 for s, _ in counted.values() if s == "pass")
    excluded = len(results) - len(counted)
    print(
        f"total: {passed} of {len(counted)} docstrings pass ({100 * passed / max(len(counted), 1):.1f} %),"
        f" {excluded} excluded (RDDs, pandas-on-Spark, streaming, Python UDFs),"
        f" pyspark-client {client_version}, {time.monotonic() - started:.0f} s"
    )
    if args.verbose:
        for name, (status, reason) in sorted(results.items()):
            print(f"  {status:8} {name}" + (f": {reason}" if reason else ""))

    listed = read_failing()
    if args.update:
        if args.module:
            # Only the modules run are rewritten; others keep their entries.
            for name, reason in listed.items():
                if not any(name.startswith(m + ".") for m in modules) and name not in results:
                    results[name] = ("fail", reason)
        write_failing(results, listed, client_version)
        print(f"wrote {FAILING.relative_to(REPO)}")
        return 0

    tolerated = {n for n, reason in listed.items() if reason.startswith(FLAKY)}
    for name in sorted(tolerated & set(counted)):
        print(f"TOLERATED  {name}: {counted[name][0]} ({listed[name]})")
    counted = {n: r for n, r in counted.items() if n not in tolerated}
    listed = {n: r for n, r in listed.items() if n not in tolerated}
    in_scope = [n for n in listed if any(n.startswith(m + ".") for m in modules)]
    regressed = [n for n, (s, _) in counted.items() if s == "fail" and n not in listed]
    fixed = [n for n in in_scope if counted.get(n, ("fail",))[0] == "pass"]
    vanished = [n for n in in_scope if n not in counted]
    flaky = [n for n in regressed if not settled(n, True)]
    flaky += [n for n in fixed if not settled(n, False)]
    regressed = [n for n in regressed if n not in flaky]
    fixed = [n for n in fixed if n not in flaky]
    for name in flaky:
        print(f"FLAKY      {name}: passed in some runs and failed in others")
    for name in regressed:
        print(f"REGRESSED  {name}: {counted[name][1]}")
    for name in fixed:
        print(f"NOW PASSES {name} (remove it from {FAILING.name}: run with --update)")
    for name in vanished:
        print(f"NOT FOUND  {name} (listed in {FAILING.name}, no longer a counted docstring)")
    return 1 if regressed or fixed or vanished else 0


if __name__ == "__main__":
    sys.exit(main())
