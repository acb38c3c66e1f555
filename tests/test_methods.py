"""Methods, tested over the registry: a new method is covered without editing a list.

Every registered method prepares a network, trains a step and evaluates on a
tiny synthetic problem; every method carries what reports need; and the labels,
order and plot styles read off the methods are those the paper's tables and
figures used before they moved onto the methods (pinned below).
"""

from __future__ import annotations

import math

import pytest
import torch

from suite.config import TrialConfig
from suite.core.data.bundle import DataBundle
from suite.core.data.registry import load_dataset
from suite.core.models.registry import build_model
from suite.builtins import BUILT_IN
from suite.methods import labels as labels_module
from suite.builtins import METHODS
from suite.methods.base import Method, Prepared
from suite.methods.labels import label_sort_key, label_style, method_label, sort_labels
from suite.methods.style import PlotStyle
from suite.registry import Registry
from suite.train import train_epoch


def _config(method: Method) -> TrialConfig:
    """The smallest valid config of `method`, built from what the method declares."""
    fields: dict = {"method": method.name, "model": "lenet300", "dataset": "synthetic", "epochs": 1,
                    "batch_size": 32, "lr": 0.05}
    if "lam" in method.requires:
        fields["lam"] = 1e-4
    if method.uses_depth:
        fields["depth"] = 2
    if method.compressions in ("one", "many"):
        fields["compressions"] = (10.0,)
    # Each method's own parameters at its own defaults, which must train (GMP's retraining included).
    return TrialConfig(**fields)


@pytest.fixture(scope="module")
def tiny() -> DataBundle:
    full = load_dataset("synthetic")
    return DataBundle("tiny", full.num_classes, full.input_shape, full.train_x[:64], full.train_y[:64],
                      full.test_x[:32], full.test_y[:32])


@pytest.mark.parametrize("name", [m.name for m in BUILT_IN])  # test-only methods of other files register late
def test_every_method_prepares_trains_a_step_and_evaluates(name: str, tiny: DataBundle) -> None:
    method = METHODS.get(name)
    cfg = _config(method)
    model = build_model(cfg.model, tiny.num_classes, tiny.input_shape)
    prepared = method.prepare(cfg, model, torch.Generator().manual_seed(0), tiny)
    assert isinstance(prepared, Prepared) and prepared.param_groups
    before = [p.detach().clone() for g in prepared.param_groups for p in g["params"]]
    epochs = cfg.epochs if prepared.epochs is None else prepared.epochs
    if epochs:
        optimizer = torch.optim.SGD(prepared.param_groups, lr=cfg.lr, momentum=cfg.momentum)
        stats = train_epoch(prepared, optimizer, tiny, cfg.batch_size, torch.Generator().manual_seed(1), 1)
        assert math.isfinite(stats.train_loss)
        after = [p.detach() for g in prepared.param_groups for p in g["params"]]
        assert any(not torch.equal(a, b) for a, b in zip(before, after)), f"{name}: training moved no parameter"
        if prepared.on_epoch_end:
            prepared.on_epoch_end(1)
    final = prepared.finalize() if prepared.finalize else prepared.model
    final.eval()
    points = method.evaluate_points(cfg, final)
    assert points, f"{name}: nothing to evaluate"
    for point in points:
        assert point.point in ("final", "posthoc")
        with torch.no_grad():
            out = point.model(tiny.test_x[:4])
        assert out.shape == (4, tiny.num_classes) and torch.isfinite(out).all()


@pytest.mark.parametrize("name", [m.name for m in BUILT_IN])
def test_every_method_says_how_reports_show_it(name: str) -> None:
    method = METHODS.get(name)
    assert method.description and method.label
    if method in BUILT_IN:
        # The paper's methods have a place in its tables and a style of their own.
        assert method.paper_order is not None
        assert method.style is not None or method.depth_styles
        if method.posthoc_label:
            assert method.posthoc_style is not None
    for style in [method.style, method.posthoc_style, *method.depth_styles.values()]:
        if style is not None:
            assert style.color.startswith("#") and len(style.color) == 7, style


def test_built_in_methods_are_the_registered_ones_in_paper_order() -> None:
    assert {m.name for m in BUILT_IN} <= set(METHODS.names())
    orders = [m.paper_order for m in BUILT_IN]
    assert orders == sorted(orders) and len(set(orders)) == len(orders)


# (method, depth, point) -> label, as the report's tables and legends have always named them.
LABELS = [
    ('dense', None, 'final', 'Dense'),
    ('dense', None, 'posthoc', 'Dense + GMP'),
    ('dwf', None, 'final', 'DWF (D=?)'),
    ('dwf', 3, 'final', 'DWF (D=3)'),
    ('dwf', 5.0, 'final', 'DWF (D=5)'),
    ('dwf', None, 'posthoc', 'DWF (D=?) + GMP'),
    ('dwf', 3, 'posthoc', 'DWF (D=3) + GMP'),
    ('dwf', 5.0, 'posthoc', 'DWF (D=5) + GMP'),
    ('spred', None, 'final', 'spred (D=2)'),
    ('spred', 3, 'final', 'spred (D=3)'),
    ('spred', 5.0, 'final', 'spred (D=5)'),
    ('spred', None, 'posthoc', 'spred (D=2) + GMP'),
    ('spred', 3, 'posthoc', 'spred (D=3) + GMP'),
    ('spred', 5.0, 'posthoc', 'spred (D=5) + GMP'),
    ('pilot', None, 'final', 'PILoT'),
    ('pilot', None, 'posthoc', 'PILoT + GMP'),
    ('l1', None, 'final', 'Vanilla L1'),
    ('l1', None, 'posthoc', 'L1 + GMP'),
    ('gmp', None, 'final', 'GMP'),
    ('gmp', None, 'posthoc', 'GMP + GMP'),
    ('gmp_oneshot', None, 'final', 'GMP (one-shot)'),
    ('gmp_oneshot', None, 'posthoc', 'GMP (one-shot)'),
    ('snip', None, 'final', 'SNIP'),
    ('snip', None, 'posthoc', 'SNIP + GMP'),
    ('synflow', None, 'final', 'SynFlow'),
    ('synflow', None, 'posthoc', 'SynFlow + GMP'),
    ('random', None, 'final', 'Random'),
    ('random', None, 'posthoc', 'Random + GMP'),
    ('plugin', None, 'final', 'plugin'),
    ('plugin', None, 'posthoc', 'plugin + GMP'),
]
# label -> (sort key, colour, marker, line style), from label_sort_key and plots.label_style.
LOOKS = {
    'Dense': ((0, 0, 'Dense'), '#000000', '', ':'),
    'DWF (D=2)': ((1, 2, 'DWF (D=2)'), '#0173b2', 'o', '-'),
    'DWF (D=3)': ((1, 3, 'DWF (D=3)'), '#de8f05', 's', '-'),
    'DWF (D=4)': ((1, 4, 'DWF (D=4)'), '#029e73', 'D', '-'),
    'DWF (D=5)': ((1, 5, 'DWF (D=5)'), '#029e73', '8', '-'),
    'spred (D=2)': ((2, 2, 'spred (D=2)'), '#cc78bc', 'v', '-'),
    'spred (D=3)': ((2, 3, 'spred (D=3)'), '#029e73', '*', '-'),
    'spred (D=5)': ((2, 5, 'spred (D=5)'), '#cc78bc', 'd', '-'),
    'PILoT': ((3, 0, 'PILoT'), '#44aa99', 'P', '-'),
    'PILoT + GMP': ((4, 0, 'PILoT + GMP'), '#44aa99', 'p', '--'),
    'Vanilla L1': ((5, 0, 'Vanilla L1'), '#332288', 'X', '-'),
    'L1 + GMP': ((6, 0, 'L1 + GMP'), '#332288', 'x', '--'),
    'GMP': ((7, 0, 'GMP'), '#882255', '^', '-'),
    'GMP (one-shot)': ((8, 0, 'GMP (one-shot)'), '#cc6677', 'v', '--'),
    'SNIP': ((9, 0, 'SNIP'), '#999933', '<', '-'),
    'SynFlow': ((10, 0, 'SynFlow'), '#56b4e9', '>', '-'),
    'Random': ((11, 0, 'Random'), '#949494', '.', '-'),
    'DWF (D=3) + GMP': ((12, 0, 'DWF (D=3) + GMP'), '#56b4e9', '*', '--'),
    'DWF (D=5) + GMP': ((12, 0, 'DWF (D=5) + GMP'), '#de8f05', 'd', '--'),
    'DWF (D=?)': ((12, 0, 'DWF (D=?)'), '#ca9161', 'p', '-'),
    'DWF (D=?) + GMP': ((12, 0, 'DWF (D=?) + GMP'), '#cc78bc', '*', '--'),
    'Dense + GMP': ((12, 0, 'Dense + GMP'), '#cc78bc', 'p', '--'),
    'GMP + GMP': ((12, 0, 'GMP + GMP'), '#d55e00', 'H', '--'),
    'Random + GMP': ((12, 0, 'Random + GMP'), '#56b4e9', 'p', '--'),
    'SNIP + GMP': ((12, 0, 'SNIP + GMP'), '#ca9161', '*', '--'),
    'SynFlow + GMP': ((12, 0, 'SynFlow + GMP'), '#0173b2', '*', '--'),
    'plugin': ((12, 0, 'plugin'), '#cc78bc', '*', '-'),
    'plugin + GMP': ((12, 0, 'plugin + GMP'), '#d55e00', 'h', '--'),
    'spred (D=2) + GMP': ((12, 0, 'spred (D=2) + GMP'), '#0173b2', 'H', '--'),
    'spred (D=3) + GMP': ((12, 0, 'spred (D=3) + GMP'), '#de8f05', 'h', '--'),
    'spred (D=5) + GMP': ((12, 0, 'spred (D=5) + GMP'), '#d55e00', 'p', '--'),
}


@pytest.mark.parametrize("method,depth,point,label", LABELS)
def test_labels_are_the_papers(method, depth, point, label) -> None:
    assert method_label(method, depth, point) == label


def test_a_missing_depth_reads_as_unknown_or_the_fixed_one() -> None:
    assert method_label("dwf", float("nan")) == "DWF (D=?)"
    assert method_label("spred", float("nan")) == "spred (D=2)"


@pytest.mark.parametrize("label", list(LOOKS))
def test_label_order_and_style_are_the_papers(label: str) -> None:
    key, color, marker, linestyle = LOOKS[label]
    assert label_sort_key(label) == key
    style = label_style(label)
    assert (style["color"], style["marker"], style["linestyle"]) == (color, marker, linestyle)
    assert (style["linewidth"], style["markersize"]) == (1.4, 4)


def test_sort_labels_follows_the_paper_and_drops_duplicates() -> None:
    shuffled = list(reversed(LOOKS)) + ["Dense"]
    assert sort_labels(shuffled) == sorted(LOOKS, key=lambda label: LOOKS[label][0])


def test_a_plugin_method_brings_its_own_label_order_and_style(monkeypatch: pytest.MonkeyPatch) -> None:
    plugin = Method(name="magic", description="test only", prepare=lambda *a: None, label="Magic",
                    posthoc_label="Magic + GMP", paper_order=99, style=PlotStyle("#123456", "o"),
                    posthoc_style=PlotStyle("#123456", "o", "--"))
    registry: Registry[Method] = Registry("method", [*METHODS.values(), plugin])
    monkeypatch.setattr(labels_module, "METHODS", registry)
    assert method_label("magic") == "Magic" and method_label("magic", point="posthoc") == "Magic + GMP"
    assert label_sort_key("Magic") == (12, 0, "Magic") and label_sort_key("Magic + GMP") == (13, 0, "Magic + GMP")
    assert label_sort_key("Some other") == (14, 0, "Some other")
    assert label_style("Magic")["color"] == "#123456" and label_style("Magic + GMP")["linestyle"] == "--"


def test_a_parameter_every_config_once_carried_keeps_that_value_as_its_hash_baseline():
    """The owning method leaves its parameter out of the hash at the value every stored config carries it at
    (suite.config.FLAT_PARAM_DEFAULTS), so no stored key moved when methods took their parameters over."""
    import dataclasses

    from suite.config import FLAT_PARAM_DEFAULTS
    from suite.fields import baseline_of

    owned = {f.name: baseline_of(f) for m in BUILT_IN for f in dataclasses.fields(m.params)}
    assert set(owned) == set(FLAT_PARAM_DEFAULTS)
    assert all(owned[name] == value for name, value in FLAT_PARAM_DEFAULTS.items())


def test_the_trainer_names_no_method_and_no_checkpoint():
    """What a method does beyond `prepare` is in its hooks; train.py calls them without knowing whose."""
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "suite" / "train.py").read_text()
    assert not re.search(r"gmp|dwf|CheckpointCache|dense", text, re.IGNORECASE)
