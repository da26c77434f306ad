#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it: formatting, lints, the Rust tests, then the
# PySpark suite against real `ember server` processes.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

echo "== cargo fmt" >&2
cargo fmt --all -- --check
echo "== cargo clippy" >&2
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo nextest" >&2
cargo nextest run --workspace --locked --no-fail-fast
echo "== pytest: PySpark (pyspark-client) against ember server" >&2
cargo build --locked --bin ember
target/ember-py/bin/python -m pytest python/tests -q -c python/pytest.ini
echo "== PySpark documentation examples against ember server (ratchet: python/doctests/failing.txt)" >&2
target/ember-py/bin/python python/doctests/run.py
echo "== Differential test against Apache Spark's recorded answers (ratchet: python/oracle/differences.txt)" >&2
target/ember-py/bin/python python/oracle/compare.py
