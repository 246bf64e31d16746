#!/usr/bin/env python3
"""Checks the committed notebooks follow the pipeline's conventions (part of `just test`):

  * the Rust kernel (kernelspec name `rust`);
  * no outputs and no execution counts (notebooks are committed clean; `just render` runs them);
  * the first code cell is exactly the shared dependency line, so one evcxr build serves all;
  * no other `:dep` line (a second crate or feature set would rebuild the tree).
"""

import json
import sys
from pathlib import Path

DEP = ':dep mi_core = { path = "../mi_core", features = ["notebook"] }'


def problems(path):
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        return [f"not a readable notebook: {err}"]
    out = []
    if nb.get("metadata", {}).get("kernelspec", {}).get("name") != "rust":
        out.append("kernelspec is not `rust`")
    code = [c for c in nb.get("cells", []) if c.get("cell_type") == "code"]
    if not code:
        return out + ["no code cells"]
    src = lambda c: "".join(c.get("source", [])) if isinstance(c.get("source"), list) else c.get("source", "")
    if src(code[0]).strip() != DEP:
        out.append(f"first code cell must be exactly `{DEP}`")
    for k, c in enumerate(code, 1):
        if c.get("outputs"):
            out.append(f"code cell {k} has outputs (commit notebooks without outputs)")
        if c.get("execution_count") is not None:
            out.append(f"code cell {k} has an execution count")
        if k > 1 and any(line.strip().startswith(":dep") for line in src(c).splitlines()):
            out.append(f"code cell {k} adds a :dep (use mi_core's re-exports)")
    return out


def main(argv):
    root = Path(__file__).resolve().parents[1]
    paths = [Path(p) for p in argv] or sorted(root.glob("*.ipynb"))
    bad = 0
    for p in paths:
        for msg in problems(p):
            print(f"{p.name}: {msg}", file=sys.stderr)
            bad += 1
    if bad:
        print(f"notebook lint: {bad} problem(s)", file=sys.stderr)
        return 1
    print(f"notebook lint: {len(paths)} notebook(s) ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
