"""``uv run python -m fuzz --inputs 100000 [--random]``: every target, the inputs
shared out evenly; prints one JSON line with the counts (exit 1 on any failure)."""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback

from fuzz.targets import TARGETS, run_target


def main() -> int:
    ap = argparse.ArgumentParser(prog="python -m fuzz")
    ap.add_argument("--inputs", type=int, default=100_000, help="total inputs over all targets")
    ap.add_argument("--random", action="store_true", help="a new random run instead of the repeatable one")
    args = ap.parse_args()
    per = max(1, args.inputs // len(TARGETS))
    result = {"inputs": 0, "unhandled": 0, "targets": {}}
    t0 = time.monotonic()
    for target in TARGETS:
        start = time.monotonic()
        try:
            n = run_target(target, per, seed=None if args.random else 0)
            result["targets"][target.name] = {"inputs": n, "seconds": round(time.monotonic() - start, 1)}
            result["inputs"] += n
        except Exception:  # hypothesis re-raises the smallest failing input's exception
            result["unhandled"] += 1
            result["targets"][target.name] = {"failed": traceback.format_exc(limit=3)}
        print(f"{target.name}: {result['targets'][target.name]}", file=sys.stderr)
    result["seconds"] = round(time.monotonic() - t0, 1)
    print(json.dumps(result, ensure_ascii=False))
    return 1 if result["unhandled"] else 0


if __name__ == "__main__":
    sys.exit(main())
