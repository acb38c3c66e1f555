"""A report as one self-contained page, index.html: the protocol, the tables with their intervals and
captions, the paper's values beside ours (paper.md), the figures (embedded PNG; the Pareto figure as
inline SVG whose points name their configuration on hover, `html_pareto`), the adaptive searches, the
data and provenance, failed and damaged trials, and the notes.

Everything is inside the file (CSS, images, a few lines of script), so it opens offline. Tables are
pandas' `to_html`, Markdown (paper.md, provenance) markdown-it-py's CommonMark; both escape their text.
The script only records errors and whether the images decoded, on the root element (data-errors,
data-images, data-ready), for a browser test to read.
"""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from markdown_it import MarkdownIt

from suite.analysis.data_selection import protocol_text, provenance_lines, trial_time_text
from suite.analysis.rendering import EMPTY_CELL, cell_text
from suite.analysis.report_registry import TABLES

HTML_FILE = "index.html"
UNBROKEN = re.compile(r"\[[^\]]*\]|\([^)]*\)|\S+ ± \S+")  # the parts of a display cell
FAILURE_FIELDS = ("method", "model", "dataset", "depth", "lam", "lr", "target_compression", "seed")

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2330;margin:0;background:#f6f7f9}
main{max-width:1340px;margin:0 auto;padding:18px 28px 60px}
h1{font-size:24px;margin:8px 0 4px}h2{font-size:19px;margin:30px 0 8px;border-bottom:2px solid #d9dde5}
h3{font-size:15px;margin:18px 0 6px}nav a{margin-right:14px}a{color:#1f5fbf}
.protocol{background:#fff7dc;border:1px solid #e8d48a;border-radius:6px;padding:8px 12px;font-size:15px}
.card{background:#fff;border:1px solid #dde1e8;border-radius:6px;padding:10px 14px;margin:10px 0;overflow-x:auto}
.row{display:flex;flex-wrap:wrap;gap:0 14px;align-items:flex-start}\
.row>.card{flex:0 1 auto;max-width:100%;min-width:0;box-sizing:border-box}
.row .caption{width:0;min-width:100%}summary{cursor:pointer;font-weight:600}
.caption summary{font-weight:normal;margin-top:8px}.caption p{margin:4px 0 0 14px}
table.data{border-collapse:collapse;font-size:13px;font-variant-numeric:tabular-nums}
table.data th,table.data td{border-bottom:1px solid #e3e6ec;padding:4px 7px;text-align:right}
table.data td:first-child{white-space:nowrap}
table.data th{background:#eef1f5;text-align:center}table.data td:first-child{text-align:left;font-weight:600}
table.data tbody tr:hover{background:#f3f7ff}
.caption{color:#4a5262;font-size:12.5px;max-width:1200px}.files{font-size:12px;color:#667}
.paper table{border-collapse:collapse;font-size:13px}.paper th,.paper td{border:1px solid #dde1e8;padding:3px 8px}
.paper th{background:#eef1f5}figure{margin:0}figure img{max-width:100%;height:auto}
figcaption{font-size:12.5px;color:#4a5262;margin-top:4px}svg{max-width:100%;height:auto}
svg g.point:hover use,svg g.point:hover path{stroke:#000!important;stroke-width:2px!important}
.open{color:#9a4b00;font-weight:600}.none{color:#667}
"""
SCRIPT = """
(function(){var root=document.documentElement,errors=[];
function note(e){errors.push(String(e&&e.message||e&&e.target&&e.target.tagName||e));root.dataset.errors=errors.length;}
window.addEventListener('error',note,true);window.addEventListener('unhandledrejection',note);
window.addEventListener('load',function(){var imgs=Array.prototype.slice.call(document.images);
var ok=imgs.filter(function(i){return i.complete&&i.naturalWidth>0;}).length;
root.dataset.errors=errors.length;root.dataset.images=ok+'/'+imgs.length;root.dataset.ready='yes';});})();
"""


@dataclass(frozen=True)
class ReportPage:
    """What the page shows. `tables`: {file stem: (display table, caption)}; `written`: the report's files
    (its PNGs and paper.md are read back); `missing`: methods of the spec without rows (None: not judged);
    `grid_trials`: the trial count of the spec's full grid, where known; `stored`: every trial of the reported
    data, those a --complete-only report leaves out of its tables included (default: `rows`)."""
    sweep: str
    rows: pd.DataFrame
    tables: dict[str, tuple[pd.DataFrame, str]]
    written: list[Path]
    failures: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    searches: pd.DataFrame | None = None
    damaged: list[str] = field(default_factory=list)
    missing: list[str] | None = None
    grid_trials: int | None = None
    stored: pd.DataFrame | None = None


def markdown_html(text: str) -> str:
    """CommonMark with tables; raw HTML in the text is escaped, not passed through."""
    return MarkdownIt("commonmark", {"html": False}).enable("table").render(text)


def _esc(value: object) -> str:
    return html.escape(cell_text(value))


def _frame_html(frame: pd.DataFrame) -> str:
    shown = frame.astype(object).where(frame.notna(), EMPTY_CELL)  # pd.NA too, which na_rep leaves as <NA>
    return shown.to_html(index=False, border=0, classes="data", escape=True)


def _section(anchor: str, title: str, body: str) -> str:
    return f'<section id="{anchor}"><h2>{html.escape(title)}</h2>\n{body}\n</section>'


def _keep_together(text: object) -> object:
    """A cell that wraps only between its parts ('88.37 ± 0.06', '[88.33, 88.44]', '(at CR 15; 2 of 3 seeds)'),
    or after a ';' within one."""
    return text if not isinstance(text, str) else UNBROKEN.sub(lambda m: re.sub(r"(?<!;) ", "\u00a0", m.group(0)),
                                                               text)


def _display_html(display: pd.DataFrame) -> str:
    """One HTML table per Model/Dataset section of a display table (as the Markdown and LaTeX files)."""
    display = display.map(_keep_together)
    if display.empty:
        return '<p class="none">No results.</p>'
    if not {"Model", "Dataset"} <= set(display.columns):
        return _frame_html(display)
    parts = []
    for (model, dataset), body in display.groupby(["Model", "Dataset"], sort=False):
        parts.append(f"<h3>{_esc(model)} on {_esc(dataset)}</h3>"
                     + _frame_html(body.drop(columns=["Model", "Dataset"])))
    return "\n".join(parts)


def _caption_html(caption: str) -> str:
    """The caption's first sentence, and the rest (the table's full rule) one click away."""
    first, _, rest = caption.partition(". ")
    if not rest:
        return f'<p class="caption">{_esc(caption)}</p>'
    return f'<details class="caption"><summary>{_esc(first)}.</summary><p>{_esc(rest)}</p></details>'


def _table_title(name: str) -> str:
    """A registered table's title (`report_registry.TABLES`), else its name."""
    return (TABLES.get(name).title or name) if name in TABLES else name


def _tables_html(page: ReportPage) -> str:
    if not page.tables:
        return '<p class="none">No tables requested.</p>'
    parts = []
    for name, (display, caption) in page.tables.items():
        files = " · ".join(f'<a href="{p.name}">{p.suffix[1:]}</a>' for p in page.written if p.stem == name)
        parts.append(f'<div class="card" id="table-{_esc(name)}"><h3>{_esc(_table_title(name))}</h3>'
                     f'{_display_html(display)}{_caption_html(caption)}'
                     f'<p class="files">{_esc(name)}: {files}</p></div>')
    return '<div class="row">' + "\n".join(parts) + "</div>"


def _png_html(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{_esc(path.stem)}" src="data:image/png;base64,{data}">'


def _figures_html(page: ReportPage) -> str:
    """Each figure the report wrote; the Pareto one as hoverable SVG of every configuration."""
    from suite.analysis.html_pareto import pareto_svg  # matplotlib is only imported when there are figures

    parts = []
    for png in (p for p in page.written if p.suffix == ".png"):
        if png.stem == "pareto" and not page.rows.empty:
            body, note = pareto_svg(page.rows), ("Every configuration (median over seeds); lines: each method's "
                                                 "Pareto frontier. Hover a point for its configuration and seeds.")
        else:
            body, note = _png_html(png), ""
        caption = f"{png.stem} ({protocol_text(page.rows)}). {note} "
        parts.append(f'<div class="card"><figure id="figure-{_esc(png.stem)}">{body}<figcaption>{_esc(caption)}'
                     f'<a href="{_esc(png.stem)}.pdf">pdf</a> · <a href="{_esc(png.name)}">png</a>'
                     "</figcaption></figure></div>")
    return "\n".join(parts) or '<p class="none">No figures.</p>'


def _paper_html(page: ReportPage) -> str | None:
    """paper.md (ours beside the paper's values) when the report wrote it; its headings one level down."""
    paper = next((p for p in page.written if p.name == "paper.md"), None)
    if paper is None:
        return None
    text = re.sub(r"\A# .*\n", "", paper.read_text(encoding="utf-8"))  # its title is the section's
    text = re.sub(r"^(#+) ", r"#\1 ", text, flags=re.MULTILINE)
    return f'<div class="card paper">{markdown_html(text)}</div>'


def _searches_html(searches: pd.DataFrame) -> str:
    if searches.empty:
        return '<p class="none">No adaptive searches for these methods.</p>'
    still_open = int((~searches["settled"].astype(bool)).sum())
    summary = (f"{len(searches) - still_open} of {len(searches)} searches have settled"
               + (f'; <span class="open">{still_open} still open</span>: the table cells they decide can still '
                  "move when the sweep resumes." if still_open
                  else ": the tables hold the adaptive run's final cells."))
    ordered = searches.sort_values("settled", kind="stable")  # the open ones first
    return (f'<p>{summary}</p><details class="card"{" open" if still_open else ""}><summary>Every search, '
            f"its state and where it stands ({len(searches)}; also in "
            f'<a href="searches.csv">searches.csv</a>)</summary>{_frame_html(ordered)}</details>')


def _failures_frame(failures: list[dict]) -> pd.DataFrame:
    records = []
    for failure in failures:
        config = failure.get("config") or {}
        error = " ".join((failure.get("error") or "").strip().split("\n\n")[0].split())
        records.append({"trial": failure.get("config_hash", "?")} | {k: config.get(k) for k in FAILURE_FIELDS}
                       | {"error": error[:500] or "no error message"})
    frame = pd.DataFrame(records, columns=["trial", *FAILURE_FIELDS, "error"])
    return frame.dropna(axis=1, how="all")


def _trials_html(page: ReportPage) -> str:
    parts = [f"<h3>Failed trials ({len(page.failures)})</h3>"]
    parts.append(f'<div class="card">{_frame_html(_failures_frame(page.failures))}</div>' if page.failures
                 else '<p class="none">None.</p>')
    parts.append(f"<h3>Damaged files ({len(page.damaged)})</h3>")
    parts.append("<ul>" + "".join(f"<li>{_esc(d)}</li>" for d in page.damaged) + "</ul>" if page.damaged
                 else '<p class="none">None.</p>')
    parts.append("<h3>Missing methods</h3>")
    if page.missing is None:
        parts.append('<p class="none">Not judged: no sweep spec named like this sweep.</p>')
    else:
        parts.append(f"<p>{_esc(', '.join(page.missing))}</p>" if page.missing
                     else '<p class="none">None: every method of the sweep\'s spec has results.</p>')
    return "\n".join(parts)


def _notes_html(page: ReportPage) -> str:
    notes = [n for n in page.notes if not any(d in n for d in page.damaged)]  # those are listed with the trials
    return markdown_html("\n".join(f"- {n}" for n in notes)) if notes else '<p class="none">None.</p>'


def _header_html(page: ReportPage) -> str:
    rows, stored = page.rows, page.rows if page.stored is None else page.stored
    trials = rows["config_hash"].nunique() if not rows.empty else 0
    return (f"<h1>Report: {_esc(page.sweep)}</h1>"
            f"<p>{len(rows)} result rows from {trials} trials; {len(page.failures)} failed trials."
            + (f" The sweep spec's full grid has {page.grid_trials} trials (an adaptive search may add values "
               "between its points; learning-rate search trials are stored apart and counted in neither)."
               if page.grid_trials else "")
            + (f" Compute: {_esc(trial_time_text(stored, page.grid_trials))}." if not stored.empty else "") + "</p>"
            f'<p class="protocol"><b>Protocol:</b> {_esc(protocol_text(rows))}</p>')


def report_html(page: ReportPage) -> str:
    """The whole page as text."""
    sections = [("tables", "Tables", _tables_html(page))]
    paper = _paper_html(page)
    if paper is not None:
        sections.append(("paper", "Ours beside the paper", paper))
    sections.append(("figures", "Figures", _figures_html(page)))
    if page.searches is not None:
        sections.append(("searches", "Adaptive searches", _searches_html(page.searches)))
    provenance = markdown_html("\n".join(provenance_lines(page.rows))) if not page.rows.empty else ""
    sections += [("provenance", "Data and provenance", provenance or '<p class="none">No trials.</p>'),
                 ("trials", "Failed and damaged trials", _trials_html(page)),
                 ("notes", "Notes", _notes_html(page))]
    nav = "<nav>" + "".join(f'<a href="#{a}">{html.escape(t)}</a>' for a, t, _ in sections) + "</nav>"
    body = "\n".join(_section(*s) for s in sections)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>Report: {_esc(page.sweep)}</title><style>{CSS}</style><script>{SCRIPT}</script></head>\n"
            f"<body><main>{_header_html(page)}{nav}\n{body}</main></body></html>\n")


def write_html_report(out: Path, page: ReportPage) -> Path:
    """Write index.html into `out` and return its path."""
    path = Path(out) / HTML_FILE
    path.write_text(report_html(page), encoding="utf-8")
    return path


__all__ = ["HTML_FILE", "ReportPage", "markdown_html", "report_html", "write_html_report"]
