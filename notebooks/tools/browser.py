#!/usr/bin/env python3
"""Headless Chromium over WebDriver (chromedriver), standard library only.

Three jobs:
  find                   print the chromium and chromedriver it would use;
  check  FILE.html ...   open each page from file:// with no network, fail on console errors,
                         and check that every plotly figure on it drew its traces;
  export FILE.html ...   write each page's figure as a static image (plotly.js's own
                         Plotly.toImage, run in the headless browser): FILE.png (and/or .svg).

Chromium and chromedriver are found on PATH (chromium, chromium-browser, google-chrome;
chromedriver) or named by $CHROMIUM and $CHROMEDRIVER.
"""

import argparse
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

CHROME_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--hide-scrollbars",
]


class BrowserError(RuntimeError):
    pass


def find_browser():
    """(chromium, chromedriver) paths, or a BrowserError saying what to install."""
    chromium = os.environ.get("CHROMIUM") or next(
        (p for p in map(shutil.which, ["chromium", "chromium-browser", "google-chrome"]) if p),
        None,
    )
    driver = os.environ.get("CHROMEDRIVER") or shutil.which("chromedriver")
    missing = [n for n, p in [("chromium", chromium), ("chromedriver", driver)] if not p]
    if missing:
        raise BrowserError(
            f"{' and '.join(missing)} not found. On Debian/Ubuntu: "
            "`sudo apt-get install -y chromium chromium-driver` (or run `just setup` as root); "
            "elsewhere install Chromium and its matching chromedriver and set $CHROMIUM / "
            "$CHROMEDRIVER to their paths."
        )
    return chromium, driver


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Chrome:
    """One headless Chromium session driven through chromedriver's W3C WebDriver API."""

    def __init__(self, width=1400, height=1000, timeout=30.0):
        chromium, driver = find_browser()
        self.port = _free_port()
        self.profile = tempfile.mkdtemp(prefix="mi-chrome-")
        self.driver = subprocess.Popen(
            [driver, f"--port={self.port}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.time() + timeout
        while True:
            try:
                if self._call("GET", "/status", timeout=2)["value"].get("ready"):
                    break
            except (OSError, BrowserError):
                pass
            if time.time() > deadline or self.driver.poll() is not None:
                self.close()
                raise BrowserError(f"chromedriver ({driver}) did not start within {timeout:.0f} s")
            time.sleep(0.1)
        caps = {
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": {
                        "binary": chromium,
                        "args": CHROME_FLAGS
                        + [f"--window-size={width},{height}", f"--user-data-dir={self.profile}"],
                    },
                    "goog:loggingPrefs": {"browser": "ALL"},
                    "timeouts": {"script": int(timeout * 1000), "pageLoad": int(timeout * 1000)},
                }
            }
        }
        try:
            self.session = self._call("POST", "/session", caps, timeout=timeout)["value"]["sessionId"]
        except Exception:
            self.close()
            raise

    def _call(self, method, path, body=None, timeout=60):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.base + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            try:
                value = json.loads(e.read()).get("value", {})
                detail = f"{value.get('error')}: {value.get('message', '').splitlines()[0]}"
            except Exception:
                detail = str(e)
            raise BrowserError(f"WebDriver {method} {path}: {detail}") from None

    def _s(self, path):
        return f"/session/{self.session}{path}"

    def get(self, url):
        self._call("POST", self._s("/url"), {"url": url})

    def execute(self, script, *args):
        return self._call("POST", self._s("/execute/sync"), {"script": script, "args": list(args)})[
            "value"
        ]

    def execute_async(self, script, *args):
        return self._call(
            "POST", self._s("/execute/async"), {"script": script, "args": list(args)}
        )["value"]

    def console(self):
        """Browser console entries since the last call (level, message)."""
        entries = self._call("POST", self._s("/se/log"), {"type": "browser"})["value"]
        return [(e.get("level", ""), e.get("message", "")) for e in entries]

    def close(self):
        try:
            if getattr(self, "session", None):
                self._call("DELETE", self._s(""), timeout=10)
        except Exception:
            pass
        if self.driver.poll() is None:
            self.driver.terminate()
            try:
                self.driver.wait(10)
            except subprocess.TimeoutExpired:
                self.driver.kill()
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# Waits for the page and its plotly figures; returns what was drawn.
PROBE = """
const done = arguments[arguments.length - 1];
const t0 = Date.now();
function probe() {
  const plots = Array.from(document.querySelectorAll('.js-plotly-plot'));
  const ready = document.readyState === 'complete' &&
      plots.every(gd => gd._fullLayout && gd._fullData);
  if (!ready && Date.now() - t0 < arguments_timeout) { setTimeout(probe, 100); return; }
  done({
    ready: ready,
    plotly: typeof window.Plotly !== 'undefined',
    plots: plots.map(gd => ({
      traces: gd._fullData ? gd._fullData.length : 0,
      visible: gd._fullData ? gd._fullData.filter(t => t.visible === true).length : 0,
      marks: gd.querySelectorAll(
        '.cartesianlayer .trace path[d]:not([d=""]), .cartesianlayer .trace .point, ' +
        '.cartesianlayer image, .cartesianlayer .hm').length,
      width: gd._fullLayout ? gd._fullLayout.width : 0,
      height: gd._fullLayout ? gd._fullLayout.height : 0,
    })),
  });
}
probe();
"""


def _probe(chrome, timeout_ms=20000):
    return chrome.execute_async(PROBE.replace("arguments_timeout", str(timeout_ms)))


def check(paths, allow_no_figure=False):
    """Opens each page offline; returns a list of failure strings (empty when all pass)."""
    failures = []
    with Chrome() as chrome:
        for path in paths:
            path = Path(path).resolve()
            if not path.is_file():
                failures.append(f"{path}: no such file")
                continue
            chrome.console()  # drop earlier entries
            chrome.get(path.as_uri())
            info = _probe(chrome)
            errors = [m for lvl, m in chrome.console() if lvl == "SEVERE"]
            problems = [f"console error: {m}" for m in errors]
            if not info["ready"]:
                problems.append("the page or its figures did not finish loading within 20 s")
            if not info["plots"] and not allow_no_figure:
                problems.append("no plotly figure on the page")
            if info["plots"] and not info["plotly"]:
                problems.append("plotly.js did not load")
            for k, p in enumerate(info["plots"]):
                if p["traces"] == 0 or p["visible"] == 0:
                    problems.append(f"figure {k}: no visible traces")
                elif p["marks"] == 0:
                    problems.append(f"figure {k}: {p['traces']} traces but nothing drawn")
            if problems:
                failures.extend(f"{path}: {m}" for m in problems)
                print(f"FAIL {path}")
            else:
                summary = ", ".join(
                    f"{p['traces']} traces / {p['marks']} marks" for p in info["plots"]
                )
                print(f"ok   {path.name}: {len(info['plots'])} figure(s) ({summary or 'no figures'})")
    return failures


TO_IMAGE = """
const [fmt, scale, k, done] = arguments;
const gd = document.querySelectorAll('.js-plotly-plot')[k];
Plotly.toImage(gd, {format: fmt, scale: scale,
                    width: gd._fullLayout.width, height: gd._fullLayout.height})
  .then(url => done({url: url}), err => done({error: String(err)}));
"""


def _decode(url):
    head, _, body = url.partition(",")
    if ";base64" in head:
        return base64.b64decode(body)
    return urllib.parse.unquote(body).encode()


def export(paths, formats=("png",), scale=2):
    """Writes NAME.<fmt> beside each NAME.html (NAME_<k>.<fmt> for pages with several figures)."""
    written = []
    with Chrome() as chrome:
        for path in paths:
            path = Path(path).resolve()
            chrome.get(path.as_uri())
            info = _probe(chrome)
            if not info["ready"] or not info["plots"]:
                raise BrowserError(f"{path}: no figure finished drawing; nothing to export")
            for k in range(len(info["plots"])):
                for fmt in formats:
                    res = chrome.execute_async(TO_IMAGE, fmt, scale if fmt == "png" else 1, k)
                    if "error" in res:
                        raise BrowserError(f"{path}: Plotly.toImage failed: {res['error']}")
                    suffix = "" if len(info["plots"]) == 1 else f"_{k}"
                    out = path.with_name(f"{path.stem}{suffix}.{fmt}")
                    out.write_bytes(_decode(res["url"]))
                    written.append(out)
    return written


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check", help="open pages offline; fail on console errors or empty figures")
    c.add_argument("files", nargs="+")
    c.add_argument("--allow-no-figure", action="store_true", help="pages may hold no figure")
    e = sub.add_parser("export", help="write static images of the pages' figures")
    e.add_argument("files", nargs="+")
    e.add_argument("--format", action="append", choices=["png", "svg"], help="default: png")
    e.add_argument("--scale", type=float, default=2.0)
    sub.add_parser("find", help="print the chromium and chromedriver that would be used")
    a = ap.parse_args(argv)
    try:
        if a.cmd == "find":
            chromium, driver = find_browser()
            print(f"chromium: {chromium}\nchromedriver: {driver}")
        elif a.cmd == "check":
            failures = check(a.files, a.allow_no_figure)
            for f in failures:
                print(f"  {f}", file=sys.stderr)
            if failures:
                print(f"browser check: {len(failures)} problem(s)", file=sys.stderr)
                return 1
            print(f"browser check: {len(a.files)} page(s) ok")
        else:
            for out in export(a.files, tuple(a.format or ["png"]), a.scale):
                print(f"wrote {out}")
    except BrowserError as err:
        print(f"browser: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
