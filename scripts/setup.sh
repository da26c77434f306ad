#!/usr/bin/env bash
# Installs what building and testing Ember needs on a fresh Debian machine, and nothing more:
# the mold linker (.cargo/config.toml uses it), protoc (the control-plane protocol is compiled
# from crates/proto/proto/ember.proto) and cargo-nextest. Safe to run repeatedly.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v mold >/dev/null 2>&1 || missing+=(mold)
command -v cc >/dev/null 2>&1 || missing+=(gcc)
command -v protoc >/dev/null 2>&1 || missing+=(protobuf-compiler)
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
