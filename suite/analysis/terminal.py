"""Tables for a terminal or a log, readable at any width.

The display frames of the report carry Model and Dataset columns; on a screen
they repeat on every line and, at 80 columns, squeeze the method names and
cells into '…'. Here each (model, dataset) section becomes its own table with
the section in its title, no cell is ever cut, and where even that does not fit
the console's width the section's columns are split over several tables, and
where a single column does not fit either, it is printed in a long layout (one line per
method, then one per column and value), which fits about 45 columns.
"""

from __future__ import annotations

import pandas as pd
from rich.console import Console
from rich.table import Table

from suite.analysis.rendering import cell_text

SECTION_COLUMNS = ("Model", "Dataset")


def _sections(display: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """(title suffix, body without the section columns) per section, in order of appearance."""
    present = [c for c in SECTION_COLUMNS if c in display.columns]
    if not present:
        return [("", display)]
    keys = display[present].astype(str).agg(" / ".join, axis=1)
    return [(key, display[keys == key].drop(columns=present)) for key in dict.fromkeys(keys)]


def wide_table(body: pd.DataFrame, title: str) -> Table:
    table = Table(title=title)
    for i, column in enumerate(body.columns):
        table.add_column(str(column), justify="left" if i == 0 else "right", no_wrap=True)
    for row in body.itertuples(index=False):
        table.add_row(*(cell_text(v) for v in row))
    return table


def long_table(body: pd.DataFrame, title: str) -> Table:
    """Two narrow columns: each method on a line of its own, then one line per column."""
    table = Table(title=title)
    table.add_column(str(body.columns[0]), no_wrap=True)
    table.add_column("value", justify="right", no_wrap=True)
    for row in body.itertuples(index=False):
        table.add_row(cell_text(row[0]), "", style="bold")
        for column, value in zip(body.columns[1:], row[1:]):
            table.add_row(f"  {column}", cell_text(value))
    return table


def _fits(table: Table, width: int) -> bool:
    return Console(width=10_000).measure(table).maximum <= width


def _column_chunks(body: pd.DataFrame, title: str, width: int) -> list[Table] | None:
    """The section as the fewest wide tables of consecutive columns (the first,
    the method, repeated in each) that each fit `width`; None if one column alone does not."""
    first, rest = body.columns[0], list(body.columns[1:])
    for parts in range(1, len(rest) + 1):
        size = -(-len(rest) // parts)
        chunks = [rest[i:i + size] for i in range(0, len(rest), size)]
        tables = [wide_table(body[[first, *chunk]], title if i == 0 else f"{title} (continued)")
                  for i, chunk in enumerate(chunks)]
        if all(_fits(t, width) for t in tables):
            return tables
    return None


def tables_for(display: pd.DataFrame, title: str, width: int) -> list[Table]:
    """The terminal tables of one display frame for a console `width` columns wide:
    per section one wide table, else its columns split over several, else the long layout."""
    out: list[Table] = []
    for section, body in _sections(display):
        heading = f"{title}: {section}" if section else title
        out += _column_chunks(body, heading, width) or [long_table(body, heading)]
    return out


def print_table(console: Console, display: pd.DataFrame, title: str) -> None:
    if display.empty:  # a table with no rows has no sections either
        console.print(f"{title}: no results", highlight=False, soft_wrap=True)
        return
    for table in tables_for(display, title, console.width):
        console.print(table)
