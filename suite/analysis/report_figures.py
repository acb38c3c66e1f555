"""The paper's figures as report entries (`suite.analysis.report_parts.ReportFigure`): the Pareto curves
(Figs. 1, 8, 9), the layer-wise allocation (Fig. 10) and the training dynamics (Figs. 6, 7). Each computes
its data with `suite.analysis.figure_data` and draws it with `suite.analysis.plots` (imported only when a
figure is drawn: matplotlib is not needed to list them); `suite.analysis.report_registry` registers them."""

from __future__ import annotations

import pandas as pd

from suite.analysis.configurations import aggregate_configs
from suite.analysis.figure_data import dynamics_selection, layer_selection, pareto_selection
from suite.analysis.report_parts import ReportContext, ReportFigure


def _pareto(ctx: ReportContext, _section: None) -> pd.DataFrame:
    selection = pareto_selection(aggregate_configs(ctx.rows))
    if ctx.only:  # the paper's methods by default (--all-methods: every one)
        ctx.notes.append(f"pareto: the paper's methods only; left out: "
                         f"{', '.join(sorted(set(selection['label']) - ctx.only)) or 'none'} "
                         "(`--all-methods` draws them)")
        selection = selection[selection["label"].isin(ctx.only)]
    return selection


def _layers(ctx: ReportContext, section: tuple[str, str]) -> pd.DataFrame | None:
    model, dataset = section
    selection = layer_selection(ctx.rows, ctx.layers, model=model, dataset=dataset)
    selection = selection[selection["label"].isin(ctx.only)] if ctx.only else selection
    if selection.empty:
        ctx.notes.append(f"layers: no per-layer counts near the chosen compression ratios for {model}/{dataset}")
        return None
    return selection


def _dynamics(ctx: ReportContext, section: tuple[str, str]) -> pd.DataFrame | None:
    model, dataset = section
    selection = dynamics_selection(ctx.history, ctx.rows, model=model, dataset=dataset)
    if selection.empty:
        ctx.notes.append(f"dynamics: no training history of the default method for {model}/{dataset}")
        return None
    return selection


def _draw(name: str):
    """The `plots` function `name`, imported when a figure is drawn."""
    def render(data: pd.DataFrame, caption: str):
        from suite.analysis import plots

        return getattr(plots, name)(data, caption=caption)
    return render


PARETO = ReportFigure("pareto", "accuracy against compression, each method's Pareto frontier (Figs. 1, 8, 9)",
                      _pareto, _draw("pareto_figure"))
LAYERS = ReportFigure("layers", "weights kept per layer near the chosen compression ratios (Fig. 10), per section",
                      _layers, _draw("layers_figure"), per_section=True)
DYNAMICS = ReportFigure("dynamics", "test accuracy, compression and weight norm over training (Figs. 6, 7), "
                        "per section", _dynamics, _draw("dynamics_figure"), per_section=True)

__all__ = ["DYNAMICS", "LAYERS", "PARETO"]
