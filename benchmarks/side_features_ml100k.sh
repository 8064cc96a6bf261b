#!/usr/bin/env bash
# Side features against item ids alone on MovieLens-100K, as issue 3 asks: the shipped
# configs/sasrec-ml-100k.ini trained with and without its side features (genres, release
# year, gender, occupation, age) for seeds 1, 2, 3; test NDCG@10 and HR@10 of the best
# validation weights, their means, and a Markdown table in <out>/side_features.md.
#
#   benchmarks/side_features_ml100k.sh
#   EXTRA="--train.max_steps 2" benchmarks/side_features_ml100k.sh   # a smoke run
#
# Environment: SEQREC (default build/seqrec), DATA (the shared data sets, default
# ../shared/data), OUT (default runs/side-features), EXTRA (options added to every run).
# A run whose result.json exists is not trained again.
set -euo pipefail
cd "$(dirname "$0")/.."

SEQREC=${SEQREC:-build/seqrec}
DATA=${DATA:-${SEQREC_DATA_DIR:-../shared/data}}
OUT=${OUT:-runs/side-features}
EXTRA=${EXTRA:-}

[ -x "$SEQREC" ] || { echo "side_features_ml100k: $SEQREC not built (scripts/build.sh)" >&2; exit 2; }
data="$OUT/data/ml-100k"
if [ ! -f "$data/manifest.json" ]; then
  mkdir -p "$OUT/data"
  "$SEQREC" prepare --input "$DATA/ml-100k/ml-100k.inter" --output "$data" \
    --user-col user_id --time-col timestamp \
    --item-side "$DATA/ml-100k/ml-100k.item" --item-categorical class,release_year \
    --user-side "$DATA/ml-100k/ml-100k.user" --user-categorical gender,occupation \
    --user-continuous age >&2
fi

for seed in 1 2 3; do
  for side in true false; do
    run="$OUT/side-$side-seed-$seed"
    [ -f "$run/result.json" ] && continue
    mkdir -p "$run"
    # shellcheck disable=SC2086  # options are words on purpose
    "$SEQREC" train --config configs/sasrec-ml-100k.ini --data.path "$data" --model.side_features "$side" \
      --train.seed "$seed" --train.run_dir "$run" $EXTRA > "$run/train.log" 2>&1
  done
done

python3 - "$OUT" <<'PY' | tee "$OUT/side_features.md"
import json, sys
out = sys.argv[1]
print("| model | seed 1 | seed 2 | seed 3 | mean test NDCG@10 | mean test HR@10 |")
print("|---|---|---|---|---|---|")
for side, name in (("true", "item ids + side features"), ("false", "item ids only")):
    results = [json.load(open(f"{out}/side-{side}-seed-{seed}/result.json"))["test"] for seed in (1, 2, 3)]
    ndcg = [r["ndcg@10"] for r in results]
    hr = [r["hr@10"] for r in results]
    cells = " | ".join(f"{n:.4f} / {h:.4f}" for n, h in zip(ndcg, hr))
    print(f"| {name} | {cells} | {sum(ndcg) / 3:.4f} | {sum(hr) / 3:.4f} |")
PY
