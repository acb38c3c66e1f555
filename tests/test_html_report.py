"""index.html of a report (suite/analysis/html_report.py): one self-contained page, checked as text and
in a real browser. The report is written from the hand-made sweep of hand_made_sweep.py as a store,
with a failed trial, a damaged file, the paper's values and adaptive searches, so every section shows.

The browser tests load the page in headless Chromium (Debian's `chromium`, installed by .ci/run) with
a proxy to nowhere, so any request for something outside the file fails and is logged; they skip,
saying why, where Chromium is absent. The screenshot is kept under the test's tmp dir (its path is
printed) and copied to $BENCH_TEST_ARTEFACTS when that is set.
"""

from __future__ import annotations

import html
import json
import math
import os
import re
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest

from suite.analysis import writing
from suite.analysis.html_pareto import configurations
from suite.analysis.html_report import HTML_FILE, SCRIPT
from suite.analysis.report_tables import ACCURACY_INTERVALS, COMPRESSION_INTERVALS, eps_caption
from suite.analysis.tables import ACCURACY_RULE
from suite.results.store import TrialResult, write_failure, write_trial
from suite.sweep.paper_spec import parse_paper

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser")) if p), None)
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH: .ci/run installs Debian's "
                                                              "`chromium` (needs root and apt-get)")
# Offline and quiet: no sync, updates or field trials, and a proxy that refuses every connection.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars", "--proxy-server=127.0.0.1:9", "--enable-logging=stderr", "--v=0"]
# A request leaving the file: a src/href/url() to http(s) (namespace names in xmlns="..." are not fetched).
EXTERNAL = re.compile(r"""(?:\b(?:src|href)\s*=\s*["']?|url\(\s*["']?|@import\s+["']?)(?:https?:)?//""", re.I)
PAPER = {"source": "a test paper", "compression": {"DWF (D=3)": {5: 180, 10: 400}},
         "accuracy": {"Dense": [[90.0, 0.5]]}, "levels": [10, 100]}
SEARCHES = [{"search": f"dwf D=3 ε={e}", "method": "dwf", "depth": 3, "cell": f"ε={e}", "axis": "lam",
             "status": status, "settled": status != "running", "trials_stored": 6, "lr_searched": True,
             "where": f"dwf D=3 ε={e}: λ [0.001, 0.002] · cell 0.001"}
            for e, status in ((5, "resolved"), (10, "running"))]


@pytest.fixture(scope="module")
def report(tmp_path_factory, rows, layers, history):
    """(out dir, written paths, store root) of a full report of the hand-made sweep."""
    root = tmp_path_factory.mktemp("html") / "results"
    trials: dict[str, TrialResult] = defaultdict(lambda: TrialResult(rows=[]))
    # One section: paper.md sets one (model, dataset) beside the paper (suite.analysis.paper).
    for record in rows[rows["model"] == "lenet300"].to_dict("records"):
        trials[record["config_hash"]].rows.append(
            {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in record.items()})
    for side, frame in (("layers", layers), ("history", history)):
        for record in frame.to_dict("records"):
            getattr(trials[record["config_hash"]], side).append(record)
    for result in trials.values():
        write_trial(root, "t", result)
    write_failure(root, "t", "deadbeef", {"method": "snip", "model": "lenet300", "seed": 0},
                  "Traceback\nRuntimeError: <boom> & more")
    (root / "t" / "rows" / "0123456789abcdef.parquet").write_bytes(b"not parquet")
    out = root.parent / "report"
    written = writing.write_report(root, "t", out, eps=(5, 10), expected_methods=["dense", "dwf", "gmp", "snip"],
                                   absolute_thresholds=(0.85,), paper=parse_paper(PAPER), searches=SEARCHES,
                                   grid_trials=40)
    return out, written, root


def test_the_report_writes_one_self_contained_page(report, rows):
    out, written, _ = report
    assert out / HTML_FILE in written
    page = (out / HTML_FILE).read_text(encoding="utf-8")
    assert not EXTERNAL.findall(page), "the page asks for something outside itself"
    assert "<link" not in page and "<script src" not in page
    pngs = [p for p in written if p.suffix == ".png" and p.stem != "pareto"]
    assert pngs and page.count('src="data:image/png;base64,') == len(pngs)
    # compression, compression_absolute, accuracy, the searches and the failed trials; the paper's two.
    assert page.count('<table class="dataframe data"') == 5 and page.count("<table>") == 2
    assert "Protocol:</b> 5 epochs, seeds 0, 1, 2" in page and "PREVIEW" in page
    assert "36 trials; 1 failed trials. The sweep spec's full grid has 40 trials" in page
    # Each caption whole: its first sentence shown, the rest one click away.
    for name, caption in (("compression", eps_caption("points") + COMPRESSION_INTERVALS),
                          ("accuracy", ACCURACY_RULE + ACCURACY_INTERVALS)):
        first, _, rest = html.escape(caption).partition(". ")
        assert f"<summary>{first}.</summary><p>{rest}</p>" in page, name


def test_every_pareto_point_names_its_configuration(report, rows):
    page = (report[0] / HTML_FILE).read_text(encoding="utf-8")
    titles = re.findall(r'<g class="point"><title>([^<]*)</title>', page)
    # the diverged DWF run (CR ∞) cannot be drawn on a log axis
    assert len(titles) == len(configurations(rows[rows["model"] == "lenet300"]))
    assert ("DWF (D=3) · λ 0.001 · lr 0.15 · depth 3 · epochs 5 · median test acc. 85.00% · CR 200 "
            "(sparsity 99.50%) · seeds 0, 1, 2 (3)") in titles
    assert any(t.startswith("GMP · target CR 100 ·") for t in titles)


def test_the_page_shows_paper_searches_failures_damage_and_provenance(report):
    out, _, root = report
    page = (out / HTML_FILE).read_text(encoding="utf-8")
    sections = dict(re.findall(r'<section id="([a-z]+)"><h2>[^<]*</h2>(.*?)</section>', page, re.S))
    assert list(sections) == ["tables", "paper", "figures", "searches", "provenance", "trials", "notes"]
    assert "a test paper" in sections["paper"] and "<table>" in sections["paper"]
    assert "1 of 2 searches have settled" in sections["searches"] and "<details" in sections["searches"]
    assert "deadbeef" in sections["trials"] and "RuntimeError: &lt;boom&gt; &amp; more" in sections["trials"]
    assert "0123456789abcdef.parquet" in sections["trials"]
    assert "Missing methods</h3>\n<p>snip</p>" in sections["trials"]
    assert "fmnist, data not recorded" in sections["provenance"]
    assert "0123456789abcdef.parquet" not in sections["notes"]  # listed once, with the trials


def _chromium(page: Path, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    return subprocess.run([CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *extra, page.as_uri()],
                          capture_output=True, text=True, timeout=180)


def _page_requests(net_log: Path) -> set[str]:
    """The URLs the page asked the network for, from Chromium's net log: the requests made for a file://
    page (Chromium's own, e.g. update checks, belong to no page), less file: and data: ones."""
    events = json.loads(net_log.read_text())["events"]
    return {e["params"]["url"] for e in events
            if "file://" in str(e.get("params", {}).get("network_isolation_key", ""))
            and not e["params"].get("url", "file:").startswith(("file:", "data:"))}


def _rendered(page: Path, tmp_path: Path) -> tuple[dict[str, str], str, list[str], set[str]]:
    """(the root element's data-* set by the page's script, the DOM after load, console messages,
    the page's network requests)."""
    net_log = tmp_path / f"{page.stem}-net.json"
    done = _chromium(page, tmp_path, "--dump-dom", f"--log-net-log={net_log}")
    assert done.returncode == 0, done.stderr[-2000:]
    root = re.search(r"<html[^>]*>", done.stdout)
    assert root, done.stdout[:500]
    state = dict(re.findall(r'data-([a-z]+)="([^"]*)"', root.group(0)))
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line or "net::ERR" in line]
    return state, done.stdout, console, _page_requests(net_log)


@needs_chromium
def test_chromium_renders_the_page_offline_without_errors(report, tmp_path):
    out, written, _ = report
    state, dom, console, requests = _rendered(out / HTML_FILE, tmp_path)
    images = len([p for p in written if p.suffix == ".png" and p.stem != "pareto"])
    assert state == {"errors": "0", "images": f"{images}/{images}", "ready": "yes"}
    assert console == [] and requests == set()
    assert len(re.findall(r"<table\b", dom)) >= 5 and dom.count('class="point"') > 10
    for anchor in ("table-compression", "table-accuracy", "figure-pareto", "figure-layers_lenet300_fmnist"):
        assert f'id="{anchor}"' in dom


@needs_chromium
def test_the_browser_check_sees_a_broken_page(tmp_path):
    """The same check on a page with a script error, an image and a CSS background from the network: all
    are caught (a failed background fires no error event: only the net log sees it)."""
    page = tmp_path / "broken.html"
    page.write_text(f"<!DOCTYPE html><html><head><script>{SCRIPT}</script><style>body{{background:"
                    "url(https://example.invalid/bg.png)}</style></head><body><img src='https://example.invalid/x.png'>"
                    "<script>undefinedFunction();</script></body></html>")
    state, _, console, requests = _rendered(page, tmp_path)
    assert state["ready"] == "yes" and int(state["errors"]) >= 2 and state["images"] == "0/1"
    assert console and requests == {"https://example.invalid/x.png", "https://example.invalid/bg.png"}


@needs_chromium
def test_a_screenshot_of_the_page_is_kept(report, tmp_path):
    from PIL import Image

    shot = tmp_path / "index.png"
    done = _chromium(report[0] / HTML_FILE, tmp_path, f"--screenshot={shot}", "--window-size=1400,2000")
    assert done.returncode == 0 and shot.is_file(), done.stderr[-2000:]
    image = Image.open(shot)
    assert image.size == (1400, 2000)
    assert len(image.convert("RGB").getcolors(maxcolors=1 << 20) or []) > 50  # drawn, not a blank page
    print(f"screenshot of index.html: {shot}")
    if os.environ.get("BENCH_TEST_ARTEFACTS"):
        target = Path(os.environ["BENCH_TEST_ARTEFACTS"])
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, target / "index_html_screenshot.png")
