#!/usr/bin/env bash
# Every configs/*.ini trains for a few steps and writes its result: the configs stay in
# step with the options (an unknown or misspelt key fails the run). Each runs as written
# but on a tiny data set, with the run length cut on the command line: the Beauty and
# quickstart configs on the synthetic data set (with its users as a feature for configs that
# say to prepare with --user-id-feature), configs on ml-100k on a slice of the real ml-100k
# with its side features (read from SEQREC_DATA_DIR, default ../shared/data).
#
#   tests/configs/configs_smoke_test.sh      (ctest: configs_smoke; SEQREC_BINARY)
set -uo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
seqrec="${SEQREC_BINARY:-$repo/build/seqrec}"
data_dir="${SEQREC_DATA_DIR:-$repo/../shared/data}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
[[ -x "$seqrec" ]] || { echo "FAIL: no seqrec binary at $seqrec"; exit 1; }

"$seqrec" prepare --synthetic --output "$work/synthetic" --synthetic.users 120 --synthetic.items 300 \
  >"$work/prepare.log" 2>&1 || { cat "$work/prepare.log"; echo "FAIL: prepare --synthetic"; exit 1; }
"$seqrec" prepare --synthetic --output "$work/synthetic-users" --synthetic.users 120 --synthetic.items 300 \
  --user-id-feature >"$work/prepare-users.log" 2>&1 ||
  { cat "$work/prepare-users.log"; echo "FAIL: prepare --synthetic --user-id-feature"; exit 1; }
ml="$data_dir/ml-100k"
if [[ -r "$ml/ml-100k.inter" ]]; then
  # The first 3,000 ratings (the file is in no order: many users, a few events each).
  head -n 3001 "$ml/ml-100k.inter" >"$work/ml-slice.inter"
  "$seqrec" prepare --input "$work/ml-slice.inter" --output "$work/ml-100k" \
    --user-col user_id --time-col timestamp \
    --item-side "$ml/ml-100k.item" --item-categorical class,release_year \
    --user-side "$ml/ml-100k.user" --user-categorical gender,occupation --user-continuous age \
    >"$work/prepare-ml.log" 2>&1 || { cat "$work/prepare-ml.log"; echo "FAIL: prepare ml-100k slice"; exit 1; }
fi

failures=0
for config in "$repo"/configs/*.ini; do
  name="$(basename "$config" .ini)"
  data="$work/synthetic"
  grep -q -- "--user-id-feature" "$config" && data="$work/synthetic-users"
  if [[ "$name" == *ml-100k* ]]; then
    if [[ ! -d "$work/ml-100k" ]]; then echo "FAIL $name: no ml-100k at $ml"; failures=$((failures + 1)); continue; fi
    data="$work/ml-100k"
  fi
  run="$work/runs/$name"
  if OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "$seqrec" train --config "$config" --data.path "$data" \
       --train.max_steps 3 --train.epochs 1 --train.batch_size 16 --train.eval_batch_size 64 \
       --train.threads 1 --train.run_dir "$run" >"$work/$name.log" 2>&1 && [[ -s "$run/result.json" ]]; then
    echo "ok   $name"
  else
    echo "FAIL $name"; tail -n 20 "$work/$name.log"; failures=$((failures + 1))
  fi
done
echo "$failures failure(s)"
[[ $failures == 0 ]]
