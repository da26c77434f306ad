#!/usr/bin/env bash
# Installs what building and testing Ember needs on a fresh Debian machine, and nothing more:
# the mold linker (.cargo/config.toml uses it), protoc (the control-plane protocol is compiled
# from crates/proto/proto/ember.proto), cargo-nextest, and a Python virtualenv under target/
# with the pinned Python tools the tests use (kubernetes-validate: the official Kubernetes
# schemas, offline; pyspark-client: the real PySpark Spark Connect client). Safe to run
# repeatedly.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v mold >/dev/null 2>&1 || missing+=(mold)
command -v cc >/dev/null 2>&1 || missing+=(gcc)
command -v protoc >/dev/null 2>&1 || missing+=(protobuf-compiler)
command -v python3 >/dev/null 2>&1 || missing+=(python3 python3-venv)
command -v script >/dev/null 2>&1 || missing+=(bsdutils)
# The Spark Connect TLS test makes its certificate with the openssl command.
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]} with apt-get" >&2
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! cargo nextest --version >/dev/null 2>&1; then
  echo "setup: installing cargo-nextest" >&2
  cargo install --locked cargo-nextest
fi

# Python tools for the tests, pinned in scripts/requirements-test.txt.
venv=target/ember-py
if ! "$venv/bin/python" -c 'import kubernetes_validate' >/dev/null 2>&1 \
  || ! cmp -s scripts/requirements-test.txt "$venv/requirements-test.txt"; then
  echo "setup: creating $venv with scripts/requirements-test.txt" >&2
  python3 -m venv "$venv" || {
    echo "setup: python3 -m venv failed; install python3-venv" >&2
    exit 1
  }
  "$venv/bin/pip" install -q --disable-pip-version-check -r scripts/requirements-test.txt
  cp scripts/requirements-test.txt "$venv/requirements-test.txt"
fi
