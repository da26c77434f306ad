#!/usr/bin/env bash
# The main job: build Ember, generate TPC-H data, run the revenue report and write its result.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

scale="${SCALE:-0.1}"
out=target/example
cargo build --release --locked -p ember-cli
ember=target/release/ember
mkdir -p "$out"
data="$out/tpch-sf$scale"
if [ ! -f "$data/_SUCCESS" ]; then
  rm -rf "$data"
  "$ember" datagen tpch --scale "$scale" --out "$data"
fi

tables=()
for t in lineitem orders partsupp part customer supplier nation region; do
  tables+=(--table "$t=$data/$t")
done
"$ember" sql "${tables[@]}" -f examples/revenue-report/report.sql --output "$out/revenue_by_nation.parquet"
echo "wrote $out/revenue_by_nation.parquet; the first rows:" >&2
"$ember" sql --table "report=$out/revenue_by_nation.parquet" -e "select * from report order by region, year, revenue desc limit 10"
