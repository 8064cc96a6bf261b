#!/usr/bin/env python3
"""Sums a Chrome trace of LibTorch's operator profiler (`seqrec bench --bench.trace F`,
`bench_train_step --profile --trace F`) by operator: self time (a call's time less its
children's), calls, share of the traced time; the top N operators.

    benchmarks/trace_top_ops.py trace.json [N]
"""
import collections
import json
import sys


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    top = int(sys.argv[2]) if len(sys.argv) == 3 else 25
    with open(sys.argv[1]) as f:
        trace = json.load(f)
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    events = sorted((e for e in events if e.get("ph") == "X"), key=lambda e: (e.get("tid"), e["ts"], -e["dur"]))
    self_us, calls = collections.Counter(), collections.Counter()
    open_events = []  # the enclosing calls on this thread, innermost last
    for e in events:
        while open_events and (open_events[-1]["tid"] != e.get("tid") or
                               open_events[-1]["ts"] + open_events[-1]["dur"] <= e["ts"]):
            open_events.pop()
        if open_events:
            self_us[open_events[-1]["name"]] -= e["dur"]
        self_us[e["name"]] += e["dur"]
        calls[e["name"]] += 1
        open_events.append(e)
    total = sum(self_us.values()) or 1
    print(f"{'share':>6} {'self ms':>10} {'calls':>8}  operator")
    for name, us in self_us.most_common(top):
        print(f"{100 * us / total:5.1f}% {us / 1000:10.1f} {calls[name]:8d}  {name}")


if __name__ == "__main__":
    main()
