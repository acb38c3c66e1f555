"""Numeric tables -> the paper's display strings, and display tables -> Markdown,
CSV and LaTeX text (`terminal` prints them to a console).

Display tables are DataFrames of strings with Model and Dataset columns; each
(model, dataset) becomes a section of its own in every format.
"""

from __future__ import annotations

import math

import pandas as pd

from suite.analysis.estimates import estimated
from suite.analysis.selections import measured_sparser
from suite.core.data.registry import DATASETS
from suite.core.models.registry import MODELS
from suite.methods.dense import DENSE

EMPTY_CELL = "–"

def model_name(model: str) -> str:
    """The paper's name of a registered model (its registry title); an unknown one as stored."""
    return MODELS.get(model).title if model in MODELS else model


def dataset_name(dataset: str) -> str:
    """The paper's name of a registered dataset (its registry title); an unknown one as stored."""
    return DATASETS.get(dataset).title if dataset in DATASETS else dataset


def cell_text(value: object) -> str:
    """A cell as text: missing values (None, NaN, NA) as EMPTY_CELL."""
    if value is None or (not isinstance(value, str) and bool(pd.isna(value))):
        return EMPTY_CELL
    return str(value)


# --------------------------------------------------------------------------- display strings

def _format_cr(cr: float) -> str:
    if math.isinf(cr):
        return "∞"
    return f"{cr:.0f}" if cr >= 10 else f"{cr:.2f}"


def _section_columns(model: str, dataset: str) -> dict:
    return {"Model": model_name(model), "Dataset": dataset_name(dataset)}


def _threshold_header(key: str) -> str:
    """'ε = 5 pp' for an ε key, 'acc. ≥ 84.12%' for an absolute one (`tables.absolute_key`)."""
    return f"acc. ≥ {key}" if key.endswith("%") else f"ε = {key} pp"


def _dense_cell(dense_acc: float, key: str) -> str:
    if pd.isna(dense_acc):
        return EMPTY_CELL
    return f"{100 * dense_acc:.2f}% acc." + ("" if key.endswith("%") else " (reference)")


def seeds_note(n_seeds: object, seeds: object) -> str:
    """'2 of 3 seeds' when a cell's configuration has fewer seeds than its section's most, else ''."""
    if pd.isna(n_seeds) or pd.isna(seeds) or int(n_seeds) >= int(seeds):
        return ""
    return f"{int(n_seeds)} of {int(seeds)} seeds"


def format_compression_table(table: pd.DataFrame) -> pd.DataFrame:
    """Display strings as in the paper: 'CR (sparsity %)' per threshold column of
    `tables.compression_table` (ε or absolute); Dense shows its accuracy."""
    keys = [c.split("@", 1)[1] for c in table.columns if c.startswith("cr@")]
    headers = [_threshold_header(k) for k in keys]
    records = []
    for _, row in table.iterrows():
        record = _section_columns(row["model"], row["dataset"]) | {"Method": row["label"]}
        for key, header in zip(keys, headers):
            if row["label"] == DENSE.label:
                record[header] = _dense_cell(row["dense_acc"], key)
            elif pd.isna(row[f"cr@{key}"]):
                record[header] = EMPTY_CELL
            else:
                fewer = seeds_note(row[f"n_seeds@{key}"], row.get("seeds"))
                record[header] = (f"{_format_cr(row[f'cr@{key}'])} ({100 * row[f'sparsity@{key}']:.2f}%"
                                  + (f"; {fewer})" if fewer else ")") + _cr_interval(row, key))
        records.append(record)
    return pd.DataFrame(records, columns=["Model", "Dataset", "Method"] + headers)


def _cr_interval(row: pd.Series, key: str) -> str:
    """' [402–611]' (the seed bootstrap's 95% interval of a Table 1 cell, `intervals.compression_intervals`),
    with ', ∅ 26%' when that share of resamples fills no cell and ' p 0.74' the chance of being within ±25% of
    the reference (the paper's) where one is given; '' for a table without intervals."""
    lo, hi = row.get(f"cr_lo@{key}"), row.get(f"cr_hi@{key}")
    if lo is None or pd.isna(lo):
        return ""
    empty, near = row.get(f"p_empty@{key}"), row.get(f"p25@{key}")
    text = f" [{_format_cr(lo)}–{_format_cr(hi)}" + (f", ∅ {100 * empty:.0f}%" if empty and empty >= 0.005 else "")
    return text + "]" + ("" if near is None or pd.isna(near) else f" p {near:.2f}")


def _acc_interval(row: pd.Series, level: str) -> str:
    """' [85.87, 86.27]': the seed bootstrap's 95% interval of a Table 2 cell's mean (`intervals`)."""
    lo, hi = row.get(f"lo@{level}"), row.get(f"hi@{level}")
    return "" if lo is None or pd.isna(lo) or lo == hi else f" [{100 * lo:.2f}, {100 * hi:.2f}]"


def measured_at(sparsity: float) -> str:
    """'at CR 83': where a Table 2 cell filled by a clearly sparser configuration was measured, as a
    compression ratio (a sparsity in percent rounds 99.996% to 100%, which reads as the empty network)."""
    return "empty network" if sparsity >= 1 else f"at CR {1 / (1 - sparsity):.0f}"


def estimate_text(row: pd.Series, level: str) -> str:
    """'86.90 est. [86.62, 87.15] (CR 180–260)': a Table 2 cell estimated between two configurations
    (`estimates.with_estimates`), its error interval and the median CRs of the bracket's ends."""
    return (f"{100 * row[f'mean@{level}']:.2f} est. [{100 * row[f'lo@{level}']:.2f}, {100 * row[f'hi@{level}']:.2f}]"
            f" (CR {_format_cr(row[f'est_cr_a@{level}'])}–{_format_cr(row[f'est_cr_b@{level}'])})")


def format_accuracy_table(table: pd.DataFrame) -> pd.DataFrame:
    """Display strings 'mean ± std' in percent, one column per sparsity level; a cell measured at a
    clearly sparser configuration (`selections.measured_sparser`) adds where: '86.08 ± 0.19 (at CR 83)',
    and one on fewer seeds than its section's most says so: '84.75 ± 1.06 (2 of 3 seeds)'. An estimated
    cell reads as `estimate_text`."""
    levels = [c.split("@", 1)[1] for c in table.columns if c.startswith("mean@")]
    headers = [f"{100 * float(s):g}%" for s in levels]
    records = []
    for _, row in table.iterrows():
        record = _section_columns(row["model"], row["dataset"]) | {"Method": row["label"]}
        for level, header in zip(levels, headers):
            mean, std, sparsity = row[f"mean@{level}"], row[f"std@{level}"], row[f"sparsity@{level}"]
            if pd.isna(mean) or estimated(row, level):
                record[header] = estimate_text(row, level) if estimated(row, level) else EMPTY_CELL
                continue
            # a single seed has no spread
            text = f"{100 * mean:.2f}" if pd.isna(std) else f"{100 * mean:.2f} ± {100 * std:.2f}"
            text += _acc_interval(row, level)
            notes = [measured_at(float(sparsity))] if not pd.isna(sparsity) and \
                measured_sparser(float(level), float(sparsity)) else []
            notes += [n for n in [seeds_note(row[f"n_seeds@{level}"], row.get("seeds"))] if n]
            record[header] = text + (f" ({'; '.join(notes)})" if notes else "")
        records.append(record)
    return pd.DataFrame(records, columns=["Model", "Dataset", "Method"] + headers)


# --------------------------------------------------------------------------- text formats

def _split_sections(display: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """(heading, body) per Model/Dataset section, in order of appearance."""
    if not {"Model", "Dataset"} <= set(display.columns):
        return [("", display)]
    out = []
    keys = display[["Model", "Dataset"]].apply(tuple, axis=1) if len(display) else pd.Series(dtype=object)
    for key in dict.fromkeys(keys):
        body = display[keys == key].drop(columns=["Model", "Dataset"])
        out.append((f"{key[0]} on {key[1]}", body))
    return out


def _markdown_cell(value: object) -> str:
    return cell_text(value).replace("|", "\\|")


def _markdown_grid(body: pd.DataFrame) -> str:
    header = "| " + " | ".join(_markdown_cell(c) for c in body.columns) + " |"
    align = "|" + "|".join([":---"] + ["---:"] * (len(body.columns) - 1)) + "|"
    lines = [header, align]
    lines += ["| " + " | ".join(_markdown_cell(v) for v in row) + " |" for row in body.itertuples(index=False)]
    return "\n".join(lines)


def to_markdown(display: pd.DataFrame, caption: str = "") -> str:
    """Pipe tables (no tabulate needed), one per Model/Dataset section."""
    short, note = split_caption(caption)
    parts = [f"**{short}**" + (f" {note}" if note else "")] if caption else []
    if display.empty:
        return "\n\n".join(parts + ["_No results._"]) + "\n"
    for heading, body in _split_sections(display):
        if heading:
            parts.append(f"**{heading}**")
        parts.append(_markdown_grid(body))
    return "\n\n".join(parts) + "\n"


def to_csv(table: pd.DataFrame) -> str:
    """The numeric table (fractions, not percentages): empty cells stay empty."""
    return table.to_csv(index=False)


_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                  "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
_LATEX_SYMBOLS = {"±": r"$\pm$", "ε": r"$\varepsilon$", "λ": r"$\lambda$", "–": "--", "∞": r"$\infty$",
                  "≥": r"$\geq$", "≈": r"$\approx$", "×": r"$\times$"}


def latex_escape(text: str) -> str:
    escaped = "".join(_LATEX_SPECIAL.get(ch, ch) for ch in str(text))
    for symbol, macro in _LATEX_SYMBOLS.items():
        escaped = escaped.replace(symbol, macro)
    return escaped


def split_caption(caption: str) -> tuple[str, str]:
    """(the caption's first sentence, the rest): a short caption, and the long rule as a note under the table."""
    head, sep, rest = caption.strip().partition(". ")
    return (head + "." if sep else head), rest.strip()


LATEX_PREAMBLE = "% Needs \\usepackage{booktabs} (\\toprule, \\midrule, \\bottomrule) in the preamble."


def to_latex(display: pd.DataFrame, caption: str = "", label: str = "") -> str:
    """A booktabs table (it says so in its first line); sections become full-width bold rows as in the paper's
    Table 2. The caption's first sentence is the caption, the rest a footnote-size note under the table."""
    split = _split_sections(display)
    columns = list(split[0][1].columns) if split else list(display.columns)
    n = len(columns)
    short, note = split_caption(caption)
    lines = [LATEX_PREAMBLE, r"\begin{table}[t]", r"\centering"]
    if short:
        lines.append(rf"\caption{{{latex_escape(short)}}}")
    if label:
        lines.append(rf"\label{{{label}}}")
    lines += [rf"\begin{{tabular}}{{l{'r' * (n - 1)}}}", r"\toprule",
              " & ".join(latex_escape(c) for c in columns) + r" \\", r"\midrule"]
    for i, (heading, body) in enumerate(split):
        if heading:
            if i:
                lines.append(r"\midrule")
            lines.append(rf"\multicolumn{{{n}}}{{l}}{{\textbf{{{latex_escape(heading)}}}}} \\")
        for row in body.itertuples(index=False):
            lines.append(" & ".join(latex_escape(cell_text(v)) for v in row) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    if note:
        lines += [r"\par\smallskip", rf"\parbox{{\linewidth}}{{\footnotesize {latex_escape(note)}}}"]
    lines.append(r"\end{table}")
    return "\n".join(lines) + "\n"
