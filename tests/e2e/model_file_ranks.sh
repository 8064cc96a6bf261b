#!/usr/bin/env bash
# End to end over ranks: prepare a tiny synthetic data set, train a few steps on 2 ranks
# (item table sharded), then evaluate and recommend with the model file on 1, 2 and 3
# ranks: every rank count must print the same metrics and write the same lists.
# usage: model_file_ranks.sh <seqrec binary> <mpiexec>
set -euo pipefail
seqrec="$1"
mpiexec="$2"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mpi=("$mpiexec" --oversubscribe)
[[ "$(id -u)" == 0 ]] && mpi+=(--allow-run-as-root)
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1

"$seqrec" prepare --synthetic --synthetic.users 200 --synthetic.items 101 --output "$work/data" >/dev/null
"${mpi[@]}" -np 2 "$seqrec" train --data.path "$work/data" --train.max_steps 6 --train.eval_every 3 \
  --train.batch_size 32 --model.d_model 16 --train.threads 1 --train.run_dir "$work/run" --log-level warn
test -f "$work/run/model.h5"

for np in 1 2 3; do
  "${mpi[@]}" -np "$np" "$seqrec" evaluate --model "$work/run/model.h5" --data "$work/data" --threads 1 \
    --output "$work/metrics-$np.json" --log-level warn >/dev/null
  "${mpi[@]}" -np "$np" "$seqrec" recommend --model "$work/run/model.h5" --input "$work/data" --split test --k 5 \
    --batch_size 7 --threads 1 --output "$work/recs-$np.jsonl" --log-level warn
done
python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
runs = {np: json.load(open(f"{work}/metrics-{np}.json")) for np in (1, 2, 3)}
for np in (2, 3):
    for part in ("metrics", "popularity"):
        for name, value in runs[1][part].items():
            other = runs[np][part][name]
            assert abs(other - value) <= 1e-6 * max(1.0, abs(value)), (np, part, name, other, value)
lists = {np: [json.loads(line) for line in open(f"{work}/recs-{np}.jsonl")] for np in (1, 2, 3)}
assert len(lists[1]) > 0
for np in (2, 3):
    assert [l["items"] for l in lists[np]] == [l["items"] for l in lists[1]], np
    assert [l["session_id"] for l in lists[np]] == [l["session_id"] for l in lists[1]], np
print("model file: 1, 2 and 3 ranks agree on", len(lists[1]), "sessions")
PY
