"""The registered report tables and figures, in report order: the built-ins listed here, then a plugin's
(`TABLES.register(...)`, `FIGURES.register(...)`; docs/extending.md). `bench report` offers and lists
exactly these (`--table`, `--plot`, `--help`), and `suite.analysis.writing` writes them in this order."""

from __future__ import annotations

from suite.analysis.report_figures import DYNAMICS, LAYERS, PARETO
from suite.analysis.report_parts import ReportFigure, ReportTable
from suite.analysis.report_tables import ACCURACY, COMPRESSION, COMPRESSION_ABSOLUTE
from suite.registry import Registry

TABLES: Registry[ReportTable] = Registry("report table", [COMPRESSION, COMPRESSION_ABSOLUTE, ACCURACY])
FIGURES: Registry[ReportFigure] = Registry("report figure", [PARETO, LAYERS, DYNAMICS])


def table_names() -> list[str]:
    """The registered tables' names, in report order."""
    return [t.name for t in TABLES.in_registration_order()]


def figure_names() -> list[str]:
    """The registered figures' names, in report order."""
    return [f.name for f in FIGURES.in_registration_order()]


def help_lines(registry: Registry) -> str:
    """'name: help; name: help' of every entry, in report order (the CLI's help for --table / --plot)."""
    return "; ".join(f"{entry.name}: {entry.help}" for entry in registry.in_registration_order())


__all__ = ["FIGURES", "TABLES", "figure_names", "help_lines", "table_names"]
