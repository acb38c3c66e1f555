"""The committed reference reports are what `bench report` makes of the committed reference stores, byte for
byte, and docs/fidelity.md's side-by-side block is what those reports give (experiments/reference_reports.sh,
the one command that writes both)."""

import filecmp
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
STORES = sorted(p.name for p in (REPO / "results" / "reference").glob("*") if (p / "rows").is_dir())


def _committed_store(tmp_path: Path) -> Path:
    """The committed reference stores (a background run may be adding rows to the working tree's)."""
    archive = subprocess.run(["git", "-C", str(REPO), "archive", "HEAD", "results/reference"], capture_output=True)
    if archive.returncode != 0:  # not a git checkout: the folder as it is
        return REPO / "results" / "reference"
    subprocess.run(["tar", "-x", "-C", str(tmp_path)], input=archive.stdout, check=True)
    return tmp_path / "results" / "reference"


@pytest.mark.slow
@pytest.mark.skipif(not STORES, reason="no reference store committed yet")
def test_committed_reports_regenerate_byte_for_byte(tmp_path):
    out, doc = tmp_path / "reports", tmp_path / "fidelity.md"
    doc.write_text((REPO / "docs" / "fidelity.md").read_text())
    env = {**os.environ, "RESULTS": str(_committed_store(tmp_path)), "OUT": str(out), "DOC": str(doc),
           "BENCH": f"{sys.executable} -m suite.cli.main", "PYTHON": sys.executable}
    done = subprocess.run(["bash", str(REPO / "experiments" / "reference_reports.sh")], capture_output=True,
                          text=True, env=env, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    for name in STORES:
        committed, made = REPO / "reports" / "reference" / name, out / name
        names = sorted(p.name for p in committed.iterdir())
        assert names == sorted(p.name for p in made.iterdir()), name
        _, mismatch, errors = filecmp.cmpfiles(committed, made, names, shallow=False)
        assert not mismatch and not errors, f"{name}: {mismatch + errors} differ; run experiments/reference_reports.sh"
    assert doc.read_text() == (REPO / "docs" / "fidelity.md").read_text(), \
        "docs/fidelity.md's generated block differs from the committed reports; run experiments/reference_reports.sh"
