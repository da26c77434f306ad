#!/usr/bin/env bash
# Records Apache Spark's answers for the differential test (python/oracle): installs a Java 17
# runtime with apt when there is none and the full pyspark package into target/spark-oracle,
# then runs every case on Spark in local mode and writes testdata/spark-oracle/answers.jsonl.
# Developers run it after changing python/oracle/cases.py and check the answers in; CI only
# reads them (python/oracle/compare.py needs no JVM).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v java >/dev/null 2>&1; then
  echo "spark-oracle: installing openjdk-17-jre-headless with apt-get" >&2
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq openjdk-17-jre-headless >/dev/null
fi

venv=target/spark-oracle
if ! cmp -s python/oracle/requirements.txt "$venv/requirements.txt"; then
  echo "spark-oracle: creating $venv with python/oracle/requirements.txt" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r python/oracle/requirements.txt
  cp python/oracle/requirements.txt "$venv/requirements.txt"
fi

exec "$venv/bin/python" python/oracle/record.py "$@"
