"""Our report's Table 1 and Table 2 cells beside the DWF paper's, for LeNet-300-100 / F-MNIST.

Reads the CSVs `bench report` wrote (compression.csv, compression_absolute.csv,
accuracy.csv) and prints Markdown tables: ours, the paper's, and whether each
cell meets the fidelity issue's tolerances (Table 1: compression within ±25% of
the paper's; Table 2: within 2 points, or the paper's std + 1 where that is
larger). A cell with no value prints as "–" and is not judged: Table 1 says
whether no configuration qualifies or the method was not run. Only the
LeNet-300-100 / F-MNIST section of the CSVs is read. The paper's numbers are
Tables 1 and 2 of ../shared/papers/001_* (F-MNIST rows).

Usage: python experiments/paper_side_by_side.py reports/reference/lenet300_fmnist [--readme README.md]
(--readme: write the tables into README between its `<!-- paper-side-by-side: begin -->` and
`<!-- paper-side-by-side: end -->` lines instead of printing them, so the README's copy is always the
report's. A report whose searches.csv lists open adaptive searches is marked "not final" above the tables.)
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import pandas as pd

from suite.analysis.rendering import measured_at
from suite.analysis.selections import measured_sparser
from suite.analysis.writing import SEARCHES_FILE

# Paper Table 1, LeNet-300-100 / F-MNIST: compression ratio at ε = 5 and 10 points below its dense 89.12%.
PAPER_TABLE1 = {"DWF (D=2)": (141, 362), "DWF (D=3)": (506, 1422), "DWF (D=4)": (486, 1442),
                "GMP": (156, 235), "SNIP": (76, 146), "SynFlow": (141, 302)}
# Paper Table 2, LeNet-300-100 / F-MNIST: mean ± std test accuracy (%) at each sparsity.
LEVELS = (0.9, 0.95, 0.98, 0.99, 0.995, 0.9975, 0.99875, 0.999)
PAPER_TABLE2 = {
    "Dense": [(89.12, 0.40)] * 8,
    "DWF (D=2)": [(87.95, 0.03), (87.42, 0.12), (86.16, 0.12), (85.05, 0.09), (82.80, 0.06), (53.87, 31.02),
                  (41.90, 22.68), (38.05, 20.10)],
    "DWF (D=3)": [(87.84, 0.12), (87.66, 0.10), (87.34, 0.12), (86.97, 0.11), (86.02, 0.20), (84.84, 0.35),
                  (82.35, 0.11), (81.35, 0.16)],
    "DWF (D=4)": [(87.68, 0.15), (87.53, 0.21), (87.35, 0.25), (87.15, 0.09), (86.52, 0.16), (84.96, 0.26),
                  (82.32, 0.31), (81.30, 0.40)],
    "GMP": [(88.22, 1.00), (87.95, 1.07), (87.10, 1.30), (85.22, 2.15), (79.77, 5.47), (55.70, 25.45),
            (26.55, 14.94), (17.29, 6.42)],
    "SNIP": [(88.61, 1.08), (87.68, 0.84), (82.35, 5.34), (83.76, 1.10), (75.64, 5.02), (21.69, 17.05),
             (13.23, 5.59), (10.00, 0.00)],
    "SynFlow": [(88.16, 1.06), (87.54, 0.74), (86.57, 0.75), (85.23, 0.41), (82.04, 0.59), (76.75, 0.33),
                (68.29, 1.46), (51.62, 13.97)],
    "Random": [(87.79, 0.12), (87.14, 0.57), (73.35, 8.92), (29.92, 9.75), (16.21, 4.80), (10.16, 0.27),
               (10.00, 0.00), (10.00, 0.00)],
}


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def read(report: Path, name: str) -> pd.DataFrame:
    """One of the report's CSVs, its LeNet-300-100 / F-MNIST section, by label."""
    table = pd.read_csv(report / name)
    section = table[(table["model"] == "lenet300") & (table["dataset"] == "fmnist")]
    if section.empty:  # every cell would read "not run": another model's report, not a failed run
        raise SystemExit(f"{report / name}: no LeNet-300-100 / F-MNIST rows; the paper's cells here are theirs")
    return section.set_index("label")


def search_state(report: Path) -> tuple[int, int] | None:
    """(settled, all) of the report's adaptive searches (its SEARCHES_FILE), or None for a grid's report."""
    path = report / SEARCHES_FILE
    if not path.exists():
        return None
    searches = pd.read_csv(path, dtype={"settled": bool})
    return int(searches["settled"].sum()), len(searches)


def table1(report: Path, name: str, columns: tuple[str, str], headers: tuple[str, str]) -> list[str]:
    ours = read(report, name)
    lines = [f"| method | {headers[0]}: ours | paper | within ±25% | {headers[1]}: ours | paper | within ±25% |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for label, paper in PAPER_TABLE1.items():
        cells = []
        for column, reference in zip(columns, paper):
            value = ours.at[label, column] if label in ours.index else None
            if _missing(value):
                cells += ["–", str(reference), "none qualifies" if label in ours.index else "not run"]
            else:
                n = int(ours.at[label, column.replace("cr@", "n_seeds@")])
                ok = abs(value / reference - 1) <= 0.25
                cells += [f"{value:.0f} ({n} seed{'s' * (n != 1)})", str(reference), "yes" if ok else "**no**"]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def table2(report: Path) -> list[str]:
    ours = read(report, "accuracy.csv")
    header = " | ".join(f"{100 * s:g}%" for s in LEVELS)
    lines = [f"| method | {header} |", "| --- |" + " --- |" * len(LEVELS)]
    for label, paper in PAPER_TABLE2.items():
        cells = []
        for level, (mean, std) in zip(LEVELS, paper):
            value = ours.at[label, f"mean@{level:g}"] if label in ours.index else None
            if _missing(value):
                cells.append(f"– / {mean:.2f}")
                continue
            ours_std = ours.at[label, f"std@{level:g}"]
            n = int(ours.at[label, f"n_seeds@{level:g}"])
            spread = "" if _missing(ours_std) else f" ± {100 * ours_std:.2f}"
            ok = abs(100 * value - mean) <= max(2.0, std + 1.0)
            mark = "" if ok else " **✗**"
            # Table 2's rule lets a sparser configuration fill a level nothing nearer reaches yet: say so.
            sparsity = ours.at[label, f"sparsity@{level:g}"]
            sparser = f" ({measured_at(sparsity)})" if measured_sparser(level, sparsity) else ""  # the report's rule
            cells.append(f"{100 * value:.2f}{spread}{'' if n == 3 else f' (n={n})'}{sparser} / {mean:.2f}{mark}")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


BEGIN, END = "<!-- paper-side-by-side: begin -->", "<!-- paper-side-by-side: end -->"


def side_by_side(report: Path) -> str:
    state = search_state(report)
    parts = [f"**Not final**: {state[0]} of {state[1]} searches have settled. Their list is in the report's "
             f"index.\n"] if state and state[0] < state[1] else []
    parts += ["Table 1, ε below our own dense median (ours / paper):\n",
             "\n".join(table1(report, "compression.csv", ("cr@5", "cr@10"), ("ε = 5", "ε = 10")))]
    absolute = report / "compression_absolute.csv"
    if absolute.exists():
        parts += ["\nTable 1 at the paper's absolute thresholds:\n",
                  "\n".join(table1(report, absolute.name, ("cr@84.12%", "cr@79.12%"), ("≥ 84.12%", "≥ 79.12%")))]
    parts += ["\nTable 2, mean ± std over seeds (ours / paper; ✗: outside 2 points or the paper's std + 1;\n"
              "(at CR N): filled by a sparser configuration, as the table's rule allows, while none nearer is "
              "measured):\n", "\n".join(table2(report))]
    return "\n".join(parts)


def write_into(readme: Path, text: str) -> None:
    content = readme.read_text()
    if content.count(BEGIN) != 1 or content.count(END) != 1 or content.index(BEGIN) > content.index(END):
        raise SystemExit(f"{readme}: needs one {BEGIN!r} line before one {END!r} line")
    head, rest = content.split(BEGIN)
    tail = rest.split(END)[1]
    # Written beside it and renamed over it: an interrupted write leaves the README as it was.
    partial = readme.with_name(readme.name + ".partial")
    partial.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}")
    partial.replace(readme)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path, help="a folder `bench report` wrote")
    parser.add_argument("--readme", type=Path, help="write the tables between this file's markers")
    args = parser.parse_args()
    text = side_by_side(args.report)
    if args.readme:
        write_into(args.readme, text)
    else:
        print(text)


if __name__ == "__main__":
    main()
