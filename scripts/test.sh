#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it: formatting, lints, then every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

echo "== cargo fmt" >&2
cargo fmt --all -- --check
echo "== cargo clippy" >&2
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo nextest" >&2
cargo nextest run --workspace --locked --no-fail-fast
