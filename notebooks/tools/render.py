#!/usr/bin/env python3
"""Executes the Rust notebooks headlessly with the evcxr kernel and writes their outputs.

For each notebook (all of notebooks/*.ipynb by default, in name order):
  * runs every cell with the `rust` kernel (per-cell timeout; the first failing cell stops the
    render, which exits non-zero naming the notebook and the cell);
  * the notebook writes its figures (NAME.html) and tables (NAME.csv) into $MI_FIGURES_DIR;
  * the executed notebook is exported to OUT/notebooks/NOTEBOOK.html for reading (offline:
    plotly.js is loaded from OUT/plotly.min.js);
then every figure written during this render gets its static image (NAME.png) through headless
Chromium (see browser.py).

The profile (quick | paper) reaches the notebooks as $MI_PROFILE. evcxr's build cache is
$EVCXR_TMPDIR (kept across runs: a warm render spends its time computing, not compiling).
"""

import argparse
import os
import re
import shutil
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from nbconvert import HTMLExporter

sys.path.insert(0, str(Path(__file__).resolve().parent))
import browser  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def first_line(source):
    for line in source.splitlines():
        if line.strip():
            return line.strip()[:100]
    return "(empty)"


class CellStderr(Exception):
    """A cell wrote to stderr: evcxr reports `?` errors and caught panics there, with an "ok"
    status, so any stderr output counts as the cell failing."""

    def __init__(self, cell_index, text):
        super().__init__(text)
        self.cell_index = cell_index


def stderr_of(cell):
    return "".join(o.get("text", "") for o in cell.get("outputs", [])
                   if o.get("output_type") == "stream" and o.get("name") == "stderr")


def execute(path, out_dir, cell_timeout):
    """Runs one notebook; returns (executed notebook, seconds). Raises SystemExit on failure."""
    nb = nbformat.read(path, as_version=4)
    code_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    t0 = time.time()
    state = {"t": t0}

    def on_start(cell, cell_index, **_):
        state["t"] = time.time()
        if cell_index in code_cells:
            k = code_cells.index(cell_index) + 1
            print(f"  [{path.stem}] cell {k}/{len(code_cells)}: {first_line(cell.source)}",
                  flush=True)

    def on_done(cell, cell_index, **_):
        if cell_index in code_cells:
            print(f"      done in {time.time() - state['t']:.1f} s", flush=True)
        err = stderr_of(cell)
        if err.strip():
            raise CellStderr(cell_index, err)

    client = NotebookClient(
        nb,
        kernel_name="rust",
        timeout=cell_timeout,
        startup_timeout=600,
        allow_errors=False,
        resources={"metadata": {"path": str(path.parent)}},
        on_cell_start=on_start,
        on_cell_executed=on_done,
    )
    try:
        client.execute()
    except CellStderr as err:
        k = code_cells.index(err.cell_index) + 1
        tail = "\n".join(str(err).strip().splitlines()[:25])
        save(nb, path, out_dir)
        raise SystemExit(f"render: {path.name}: cell {k} "
                         f"(`{first_line(nb.cells[err.cell_index].source)}`) failed:\n{tail}") from None
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as err:
        failed = next(
            (
                i
                for i, c in enumerate(nb.cells)
                if c.cell_type == "code"
                and any(o.get("output_type") == "error" for o in c.get("outputs", []))
            ),
            None,
        )
        where = (
            f"cell {code_cells.index(failed) + 1} (`{first_line(nb.cells[failed].source)}`)"
            if failed is not None
            else "a cell"
        )
        kind = "timed out" if isinstance(err, CellTimeoutError) else "failed"
        msg = str(err).strip().splitlines()
        tail = "\n".join(msg[-25:])
        # Keep what ran, for reading the error in context.
        save(nb, path, out_dir)
        raise SystemExit(f"render: {path.name}: {where} {kind} after "
                         f"{time.time() - state['t']:.0f} s:\n{tail}") from None
    except Exception as err:  # the kernel did not start or died outside a cell
        raise SystemExit(
            f"render: {path.name}: the Rust kernel failed ({type(err).__name__}: {err}).\n"
            "Check `just setup` (evcxr_jupyter on PATH, kernel registered in .venv) and the "
            "kernel's own messages above.") from None
    return nb, time.time() - t0


def save(nb, path, out_dir):
    """OUT/notebooks/NAME.ipynb (executed) and NAME.html, linked to OUT/plotly.min.js."""
    nb_dir = out_dir / "notebooks"
    nb_dir.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, nb_dir / path.name)
    # Offline: no require.js or MathJax from a CDN (the notebooks write math in Unicode; mermaid
    # is only fetched by pages that hold a diagram, and ours hold none).
    exporter = HTMLExporter(template_name="lab", require_js_url="", mathjax_url="")
    html, _ = exporter.from_notebook_node(nb)
    html = re.sub(r'<script src="\s*">\s*</script>', "", html)
    # The figures in the page draw with window.Plotly: load the shared copy once, offline.
    if (out_dir / "plotly.min.js").exists():
        html = html.replace("</head>", '<script src="../plotly.min.js"></script>\n</head>', 1)
    page = nb_dir / f"{path.stem}.html"
    page.write_text(html, encoding="utf-8")
    return page


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("notebooks", nargs="*", help="default: every notebooks/*.ipynb")
    ap.add_argument("--profile", default=os.environ.get("MI_PROFILE", "quick"),
                    choices=["quick", "paper"])
    ap.add_argument("--out", help="default: figures/ (paper) or figures/quick/ (quick)")
    ap.add_argument("--cell-timeout", type=int,
                    default=int(os.environ.get("MI_CELL_TIMEOUT", "3600")),
                    help="seconds per cell (the first cell of a cold render compiles the "
                         "library: ~10-20 min on 2 cores)")
    ap.add_argument("--no-static", action="store_true", help="skip the PNG export")
    a = ap.parse_args(argv)

    notebooks = [Path(n).resolve() for n in a.notebooks] or sorted(
        (ROOT / "notebooks").glob("[0-9]*.ipynb"))
    if not notebooks:
        raise SystemExit("render: no notebooks found")
    for nb in notebooks:
        if not nb.is_file():
            raise SystemExit(f"render: {nb}: no such notebook")
    out_dir = Path(a.out).resolve() if a.out else (
        ROOT / "figures" if a.profile == "paper" else ROOT / "figures" / "quick")
    out_dir.mkdir(parents=True, exist_ok=True)

    os.environ["MI_PROFILE"] = a.profile
    os.environ["MI_FIGURES_DIR"] = str(out_dir)
    # evcxr's build cache: shared by all notebooks and runs (a cold one costs ~10 min of compiling).
    tmp = os.environ.setdefault("EVCXR_TMPDIR", str(ROOT / "target" / "evcxr"))
    if tmp:
        # evcxr resolves its own lock file: start it from the workspace's to pin versions.
        Path(tmp).mkdir(parents=True, exist_ok=True)
        lock = ROOT / "Cargo.lock"
        if lock.exists() and not (Path(tmp) / "Cargo.lock").exists():
            shutil.copy(lock, Path(tmp) / "Cargo.lock")

    print(f"render: profile {a.profile}, {len(notebooks)} notebook(s) -> {out_dir}", flush=True)
    start = time.time()
    timings = []
    for path in notebooks:
        print(f"render: executing {path.name}", flush=True)
        nb, secs = execute(path, out_dir, a.cell_timeout)
        page = save(nb, path, out_dir)
        timings.append((path.name, secs))
        print(f"render: {path.name} done in {secs:.0f} s -> {page.relative_to(out_dir)}",
              flush=True)

    figures = sorted(p for p in out_dir.glob("*.html") if p.stat().st_mtime >= start - 1)
    if figures and not a.no_static:
        print(f"render: static images of {len(figures)} figure(s)", flush=True)
        try:
            for png in browser.export(figures):
                print(f"  wrote {png.relative_to(out_dir)}", flush=True)
        except browser.BrowserError as err:
            raise SystemExit(f"render: static export: {err}") from None
    total = time.time() - start
    for name, secs in timings:
        print(f"  {name}: {secs:.0f} s")
    print(f"render: {len(notebooks)} notebook(s), {len(figures)} figure(s) in {total:.0f} s "
          f"-> {out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
