#!/usr/bin/env bash
# The accuracy table of issue 3: every model family trained on Amazon Beauty with the same
# protocol (leave-one-out: last item test, second-to-last validation, all items ranked but
# those already in the session, as S3-Rec and TIGER rank them: the configs set
# train.exclude_history; no sampling), the best validation weights scored on the test
# split next to the most-popular baseline. Prints a Markdown table and writes it to <out>/accuracy.md.
#
#   benchmarks/accuracy_table.sh                      # every row below
#   benchmarks/accuracy_table.sh sasrec-ce gru4rec    # some rows
#   EXTRA="--train.epochs 5" benchmarks/accuracy_table.sh   # a quick look (not the real figures)
#
# Environment: SEQREC (binary, default build/seqrec), DATA (the shared data sets, default
# ../shared/data), OUT (default runs/accuracy), LAUNCH (e.g. "launch/seqrec-mpirun -np 2 --";
# default: one process), EXTRA (options added to every run). A row whose result.json exists
# is not trained again: delete its run directory to redo it.
set -euo pipefail
cd "$(dirname "$0")/.."

SEQREC=${SEQREC:-build/seqrec}
DATA=${DATA:-${SEQREC_DATA_DIR:-../shared/data}}
OUT=${OUT:-runs/accuracy}
LAUNCH=${LAUNCH:-}
EXTRA=${EXTRA:-}

# name | config | options over the config | data set (beauty, or beauty-users: prepared
# with --user-id-feature)
ROWS="
sasrec-sampled | configs/sasrec-beauty.ini   |                   | beauty
sasrec-ce      | configs/sasrec-beauty.ini   | --model.loss ce   | beauty
sasrec-bce     | configs/sasrec-beauty.ini   | --model.loss bce --model.layers 2 --model.d_model 50 --model.dropout 0.5 --train.clip_norm 0 --train.schedule cosine --train.epochs 100 --train.patience 0 | beauty
sse-pt         | configs/sse-pt-beauty.ini   |                   | beauty-users
gpt2-clm       | configs/gpt2-beauty.ini     |                   | beauty
bert4rec-mlm   | configs/bert4rec-beauty.ini |                   | beauty
gru4rec        | configs/gru4rec-beauty.ini  |                   | beauty
hstu           | configs/hstu-beauty.ini     |                   | beauty
xlnet-plm      | configs/xlnet-beauty.ini    |                   | beauty
electra-rtd    | configs/electra-beauty.ini  |                   | beauty
"

[ -x "$SEQREC" ] || { echo "accuracy_table: $SEQREC not built (scripts/build.sh)" >&2; exit 2; }
prepared() {  # prepared <data set name>: its directory, prepared on first use
  local dir="$OUT/data/$1"
  if [ ! -f "$dir/manifest.json" ]; then
    mkdir -p "$OUT/data"
    local extra=()
    [ "$1" = beauty-users ] && extra=(--user-id-feature)
    "$SEQREC" prepare --input "$DATA/amazon-beauty/Beauty.txt" --output "$dir" "${extra[@]}" >&2
  fi
  echo "$dir"
}

wanted=("$@")
selected() {
  [ ${#wanted[@]} -eq 0 ] && return 0
  local w
  for w in "${wanted[@]}"; do [ "$w" = "$1" ] && return 0; done
  return 1
}

metric() {  # metric <result.json> <section> <key>
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print("%.4f" % r[sys.argv[2]][sys.argv[3]])' "$@" 2>/dev/null ||
    echo "-"
}

table="| model | config | test NDCG@10 | test HR@10 | valid NDCG@10 | best step | most popular NDCG@10 / HR@10 | minutes |
|---|---|---|---|---|---|---|---|"
while IFS='|' read -r name config options data; do
  name=$(echo "$name" | xargs)
  [ -n "$name" ] || continue
  selected "$name" || continue
  config=$(echo "$config" | xargs)
  run="$OUT/$name"
  if [ ! -f "$config" ]; then
    echo "accuracy_table: $name: $config does not exist (model family not built yet); skipped" >&2
    continue
  fi
  if [ ! -f "$run/result.json" ]; then
    data=$(prepared "$(echo "$data" | xargs)")
    mkdir -p "$run"
    start=$(date +%s)
    # shellcheck disable=SC2086  # options are words on purpose
    $LAUNCH "$SEQREC" train --config "$config" --data.path "$data" --train.run_dir "$run" $options $EXTRA \
      2>&1 | tee "$run/train.log"
    echo $(( ($(date +%s) - start + 59) / 60 )) > "$run/minutes"
  fi
  r="$run/result.json"
  table+="
| $name | \`$config $options\` | $(metric "$r" test ndcg@10) | $(metric "$r" test hr@10) | $(metric "$r" best_valid ndcg@10) | $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["best_step"])' "$r" 2>/dev/null || echo -) | $(metric "$r" test_popularity ndcg@10) / $(metric "$r" test_popularity hr@10) | $(cat "$run/minutes" 2>/dev/null || echo -) |"
done <<< "$ROWS"

echo "$table" | tee "$OUT/accuracy.md"
