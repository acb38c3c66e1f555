"""experiments/paper_side_by_side.py: the README's copy of the report's cells beside the paper's is
written between its markers, and nothing else in the file changes."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd

from suite.analysis.writing import SEARCH_COLUMNS, SEARCHES_FILE

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "experiments" / "paper_side_by_side.py"
# A committed report: the written-bound DWF rows of the reference run, with its dense trials.
REPORT = REPO / "reports" / "archive" / "rebuilt-fmnist-split" / "lenet300_fmnist_omega_max_product"


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), str(REPORT), *args], capture_output=True, text=True,
                          timeout=120)


def test_readme_block_is_replaced_between_its_markers(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# Title\n\nbefore\n<!-- paper-side-by-side: begin -->\nstale table\n"
                      "<!-- paper-side-by-side: end -->\nafter\n")
    done = _run("--readme", str(readme))
    assert done.returncode == 0, done.stderr
    text = readme.read_text()
    assert text.startswith("# Title\n\nbefore\n<!-- paper-side-by-side: begin -->\nTable 1, ε below our own")
    assert text.endswith("\n<!-- paper-side-by-side: end -->\nafter\n")
    assert "stale table" not in text
    # The report's own cells and the paper's, judged: D = 3 at ε = 5 is CR 369 against 506, outside 25%.
    assert "| DWF (D=3) | 369 (3 seeds) | 506 | **no** |" in text
    printed = _run()
    assert printed.returncode == 0 and printed.stdout.strip() in text


def test_readme_without_markers_is_left_alone(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# Title\n")
    done = _run("--readme", str(readme))
    assert done.returncode != 0 and "paper-side-by-side: begin" in done.stderr
    assert readme.read_text() == "# Title\n"


def test_a_report_with_open_searches_is_marked_not_final_and_another_models_is_refused(tmp_path):
    report = tmp_path / "report"
    shutil.copytree(REPORT, report)
    searches = pd.DataFrame([dict.fromkeys(SEARCH_COLUMNS), dict.fromkeys(SEARCH_COLUMNS)])
    searches["settled"] = [True, False]
    searches.to_csv(report / SEARCHES_FILE, index=False)
    done = subprocess.run([sys.executable, str(SCRIPT), str(report)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("**Not final**: 1 of 2 searches have settled. Their list is in the report's index.")
    csv = report / "compression.csv"
    csv.write_text(csv.read_text().replace("lenet300,fmnist,", "lenet5,mnist,"))
    done = subprocess.run([sys.executable, str(SCRIPT), str(report)], capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "no LeNet-300-100 / F-MNIST rows" in done.stderr
