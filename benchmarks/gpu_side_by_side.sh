#!/usr/bin/env bash
# seqrec against a plain-PyTorch reference of the same model (reference_pytorch.py,
# in the GPU machine's own PyTorch), side by side on one GPU: sequences/s, positions/s,
# MFU against the bf16 matmul peak measured here first, peak memory; one markdown table.
#
#   bash launch/build-gpu.sh                # once, in the same device session
#   bash benchmarks/gpu_side_by_side.sh     # from the repo root; results under $OUT
#
# Sizes (batch 128, 2 layers, 2 heads, d_ff 4d, dropout 0.1, bf16):
#   small   d 64,  L 50,  ~12k items:  gpt2 and bert4rec, full softmax
#   medium  d 256, L 200, ~100k items: gpt2 and bert4rec, full softmax
#   large   d 512, L 200, ~1M items:   gpt2 and bert4rec, sampled softmax (256) and full softmax
# The reference gets the item count of seqrec's prepared data set and seqrec's synthetic
# length distribution (--length_dist geometric), so both sides do the same work per step.
#
# Environment (defaults in brackets):
#   BUILD [build-gpu]  OUT [out]  SIZES [small medium large]  MODELS [gpt2 bert4rec]
#   PRECISION [bf16]  STEPS [50]  WARMUP [10]  BATCH [128]  USERS [20000]  PYTHON [python3]
#   SEQREC_EXTRA_ARGS, REF_EXTRA_ARGS: appended to every seqrec bench / reference command
#   SEQREC_BACKEND [nccl]; SEQREC_PRECISION_ARGS [--train.precision $PRECISION] (set it
#     empty for a seqrec without that option)
#   RUN_TIMEOUT [150]: seconds one run may take; BUDGET_S [540]: no run goes past this many
#     seconds of the script, so the table is printed inside a 600 s device call (when the
#     build shares the call, pass what is left: BUDGET_S=$((570 - SECONDS)))
#   DATA_ROOT [/tmp/seqrec-side-by-side]: prepared data sets, kept out of $OUT (which comes back)
# A failed, timed-out or skipped run is recorded in the table; the exit status is 1 then.
set -euo pipefail

BUILD=${BUILD:-build-gpu}
OUT=${OUT:-out}
SIZES=${SIZES:-small medium large}
MODELS=${MODELS:-gpt2 bert4rec}
PRECISION=${PRECISION:-bf16}
STEPS=${STEPS:-50}
WARMUP=${WARMUP:-10}
BATCH=${BATCH:-128}
USERS=${USERS:-20000}
LAYERS=2
HEADS=2
NEGATIVES=256
PYTHON=${PYTHON:-python3}
RUN_TIMEOUT=${RUN_TIMEOUT:-150}
BUDGET_S=${BUDGET_S:-540}
DATA_ROOT=${DATA_ROOT:-/tmp/seqrec-side-by-side}
SEQREC_BACKEND=${SEQREC_BACKEND:-nccl}
SEQREC_PRECISION_ARGS=${SEQREC_PRECISION_ARGS---train.precision $PRECISION}
read -r -a seqrec_extra <<<"${SEQREC_EXTRA_ARGS:-}"
read -r -a ref_extra <<<"${REF_EXTRA_ARGS:-}"
read -r -a precision_args <<<"$SEQREC_PRECISION_ARGS"

# The build links the sysroot's MPI and HDF5; the binary needs their paths at run time too.
if [[ -f .device/env.sh ]]; then
  # shellcheck disable=SC1091
  source .device/env.sh
fi
SEQREC=$BUILD/seqrec
REFERENCE=benchmarks/reference_pytorch.py
if [[ ! -x $SEQREC ]]; then
  echo "gpu_side_by_side: no $SEQREC; build first (launch/build-gpu.sh) or set BUILD" >&2
  exit 2
fi
mkdir -p "$OUT/json" "$OUT/logs" "$DATA_ROOT"
OUT=$(cd "$OUT" && pwd)

{
  date -u
  nvidia-smi -L || true
  "$PYTHON" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)' || true
  git rev-parse HEAD 2>/dev/null || true
  echo "SIZES=$SIZES MODELS=$MODELS PRECISION=$PRECISION STEPS=$STEPS WARMUP=$WARMUP BATCH=$BATCH USERS=$USERS"
  echo "SEQREC_EXTRA_ARGS=${SEQREC_EXTRA_ARGS:-} REF_EXTRA_ARGS=${REF_EXTRA_ARGS:-}"
} >"$OUT/environment.txt" 2>&1
cat "$OUT/environment.txt"

failures=0

# run NAME CMD...: runs CMD with its output in $OUT/logs/NAME.log; sets $status to ok,
# failed(rc=N), timeout(Ns) or skipped(budget). Never fails the script.
run() {
  local name=$1 log=$OUT/logs/$1.log
  shift
  local left=$((BUDGET_S - SECONDS))
  local limit=$((left < RUN_TIMEOUT ? left : RUN_TIMEOUT))
  if ((left < 20)); then
    status="skipped(budget)"
    echo "skipped: over BUDGET_S=$BUDGET_S" >"$log"
  else
    local rc=0
    echo "+ $*" >"$log"
    timeout -k 10 "$limit" "$@" >>"$log" 2>&1 || rc=$?
    if ((rc == 0)); then
      status=ok
    elif ((rc == 124 || rc == 137)); then
      status="timeout(${limit}s)"
    else
      status="failed(rc=$rc)"
    fi
  fi
  if [[ $status != ok ]]; then
    failures=$((failures + 1))
  fi
  if [[ $status == failed* || $status == timeout* ]]; then
    echo "  $name: $status; last lines of $log:"
    tail -n 5 "$log" | sed 's/^/    /'
  fi
}

# (a) the dense bf16 peak that MFU is measured against
run peak "$PYTHON" "$REFERENCE" --measure_peak --json "$OUT/json/peak.json" "${ref_extra[@]}"
echo "[${SECONDS}s] peak: $status; $(tail -n 1 "$OUT/logs/peak.log")"
PEAK=0
if [[ $status == ok ]]; then
  PEAK=$("$PYTHON" -c 'import json, sys; print(json.load(open(sys.argv[1]))["peak_tflops"])' "$OUT/json/peak.json")
fi

printf 'size\tmodel\tloss\td_model\tmax_seq_len\titems\tbatch_size\tlayers\theads\tnegatives\tseqrec_json\tseqrec_status\tref_json\tref_status\n' \
  >"$OUT/runs.tsv"

# real items of a prepared data set: the item feature's cardinality less the reserved ids
real_items() {
  "$PYTHON" - "$1/schema.json" <<'PY'
import json, sys
schema = json.load(open(sys.argv[1]))
item = next(f for f in schema["features"] if "item_id" in f.get("tags", []))
print(item["cardinality"] - schema.get("reserved_ids", {}).get("first_real", 2))
PY
}

for size in $SIZES; do
  # (b) the data set: seqrec's synthetic log, whose items follow a Zipf law with successor
  # chains; at 1M items that leaves a fifth of the catalog unseen, so the large set draws
  # items uniformly (about 98% seen) and the reference does too.
  prepare_args=()
  item_dist=zipf
  case $size in
    small) D=64 L=50 ITEMS=12000 MEAN=50 LOSSES="ce" ;;
    medium) D=256 L=200 ITEMS=100000 MEAN=200 LOSSES="ce" ;;
    large)
      D=512 L=200 ITEMS=1000000 MEAN=200 LOSSES="sampled ce"
      prepare_args=(--synthetic.exponent 0 --synthetic.follow 0)
      item_dist=uniform
      ;;
    *) echo "unknown size '$size' (small, medium, large)" >&2; failures=$((failures + 1)); continue ;;
  esac
  data=$DATA_ROOT/$size-u$USERS-i$ITEMS-m$MEAN
  if [[ ! -f $data/schema.json ]]; then
    rm -rf "$data"
    run "prepare-$size" "$SEQREC" prepare --synthetic --synthetic.users "$USERS" --synthetic.items "$ITEMS" \
      --synthetic.mean-length "$MEAN" "${prepare_args[@]}" --output "$data"
    echo "[${SECONDS}s] prepare $size: $status"
    if [[ $status != ok ]]; then
      for model in $MODELS; do
        for loss in $LOSSES; do
          printf '%s\t%s\t%s\t%s\t%s\t\t%s\t%s\t%s\t%s\t\tprepare %s\t\tprepare %s\n' "$size" "$model" "$loss" \
            "$D" "$L" "$BATCH" "$LAYERS" "$HEADS" "$NEGATIVES" "$status" "$status" >>"$OUT/runs.tsv"
        done
      done
      continue
    fi
  fi
  items=$(real_items "$data")
  echo "[${SECONDS}s] $size: d $D, L $L, $items items ($data)"

  # (c) each model and loss, seqrec then the reference
  for model in $MODELS; do
    if [[ $model == gpt2 ]]; then masking=clm norm=pre; else masking=mlm norm=post; fi
    for loss in $LOSSES; do
      tag=$size-$model-$loss
      seqrec_json=$OUT/json/seqrec-$tag.json
      ref_json=$OUT/json/reference-$tag.json
      rm -f "$seqrec_json" "$ref_json"
      run "seqrec-$tag" "$SEQREC" bench --data.path "$data" --data.max_seq_len "$L" \
        --model.body transformer --model.masking "$masking" --model.norm "$norm" --model.activation gelu \
        --model.loss "$loss" --model.negatives "$NEGATIVES" --model.negative_sharing position \
        --model.d_model "$D" --model.layers "$LAYERS" --model.heads "$HEADS" --model.dropout 0.1 \
        --model.mlm_probability 0.2 --model.side_features false \
        --train.batch_size "$BATCH" --train.lr 0.001 "${precision_args[@]}" --dist.backend "$SEQREC_BACKEND" \
        --bench.warmup_steps "$WARMUP" --bench.steps "$STEPS" --bench.evaluate false --bench.json "$seqrec_json" \
        "${seqrec_extra[@]}"
      seqrec_status=$status
      if [[ $status == ok && ! -f $seqrec_json ]]; then seqrec_status="no json"; fi
      echo "[${SECONDS}s] seqrec    $tag: $seqrec_status $(grep -m1 '^train ' "$OUT/logs/seqrec-$tag.log" || true)"

      run "reference-$tag" "$PYTHON" "$REFERENCE" --model "$model" --loss "$loss" --negatives "$NEGATIVES" \
        --d_model "$D" --layers "$LAYERS" --heads "$HEADS" --max_seq_len "$L" --items "$items" \
        --batch_size "$BATCH" --dropout 0.1 --mlm_probability 0.2 --lr 0.001 --precision "$PRECISION" \
        --steps "$STEPS" --warmup "$WARMUP" --length_dist geometric --mean_length "$MEAN" \
        --item_dist "$item_dist" --peak_tflops "$PEAK" --json "$ref_json" "${ref_extra[@]}"
      ref_status=$status
      echo "[${SECONDS}s] reference $tag: $ref_status $(grep -m1 '^pytorch ' "$OUT/logs/reference-$tag.log" || true)"

      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$size" "$model" "$loss" "$D" "$L" "$items" \
        "$BATCH" "$LAYERS" "$HEADS" "$NEGATIVES" "$seqrec_json" "$seqrec_status" "$ref_json" "$ref_status" \
        >>"$OUT/runs.tsv"
    done
  done
done

# (d) the table
echo
if ! "$PYTHON" "$REFERENCE" --summarize "$OUT/runs.tsv" --peak_json "$OUT/json/peak.json" \
  --json "$OUT/summary.json" >"$OUT/table.md"; then
  echo "gpu_side_by_side: the table could not be made; the runs:" >&2
  cat "$OUT/runs.tsv" >"$OUT/table.md"
  failures=$((failures + 1))
fi
cat "$OUT/table.md"
echo
echo "[${SECONDS}s] results in $OUT (table.md, summary.json, json/, logs/); $failures run(s) not ok"
((failures == 0))
