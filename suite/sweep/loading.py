"""Finding a sweep spec by name or path and reading its YAML."""

from __future__ import annotations

import os
import re
from pathlib import Path

import yaml

from suite.paths import SWEEPS_DIR
from suite.sweep.parsing import parse_spec
from suite.sweep.spec import DEFAULT_MAX_TRIALS, Spec, SpecError

# Extra folders searched for spec names, before the project's sweeps/ (os.pathsep-separated).
SWEEPS_ENV = "BENCH_SWEEPS"


class SpecLoader(yaml.SafeLoader):
    """SafeLoader that reads `1e-6` as a float (YAML 1.1 wants `1.0e-6`) and rejects duplicate keys."""


SpecLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
                    |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
                    |\.[0-9_]+(?:[eE][-+][0-9]+)?
                    |[-+]?\.(?:inf|Inf|INF)
                    |\.(?:nan|NaN|NAN))$""", re.X),
    list("-+0123456789."),
)


def _construct_mapping(loader: SpecLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first at line {seen[key] + 1})", key_node.start_mark)
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


SpecLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def available_sweeps() -> list[str]:
    return sorted(p.stem for d in _sweep_dirs() if d.is_dir() for p in d.glob("*.yaml"))


def _sweep_dirs() -> list[Path]:
    extra = [Path(p) for p in os.environ.get(SWEEPS_ENV, "").split(os.pathsep) if p]
    return extra + [SWEEPS_DIR]


def resolve_spec_path(name_or_path: str | Path) -> Path:
    """A spec name (`sweeps/NAME.yaml`) or a path to a YAML file."""
    text = str(name_or_path)
    looks_like_path = text.endswith((".yaml", ".yml")) or os.sep in text or "/" in text
    if looks_like_path:
        path = Path(text).expanduser()
        if not path.is_file():
            raise SpecError(f"{path}: no such spec file")
        return path
    for directory in _sweep_dirs():
        for suffix in (".yaml", ".yml"):
            path = directory / f"{text}{suffix}"
            if path.is_file():
                return path
    raise SpecError(f"unknown sweep {text!r}; available: {', '.join(available_sweeps()) or '(none)'} "
                    f"(in {SWEEPS_DIR}), or give a path to a YAML file")


def load_spec(name_or_path: str | Path, max_trials: int = DEFAULT_MAX_TRIALS) -> Spec:
    """Load and validate `sweeps/NAME.yaml` or a YAML file at a path (at most `max_trials` trials)."""
    path = resolve_spec_path(name_or_path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise SpecError(f"{path}: cannot read: {exc}") from exc
    try:
        raw = yaml.load(text, Loader=SpecLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise SpecError(f"{path}: malformed YAML: {exc}") from exc
    return parse_spec(raw, str(path), default_name=path.stem, max_trials=max_trials)
