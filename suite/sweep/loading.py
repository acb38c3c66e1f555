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
        if not isinstance(key_node, yaml.ScalarNode):  # `? [a, b]`: no spec key is a list or a mapping
            raise yaml.constructor.ConstructorError(
                None, None, "a key must be a plain name or number, not a list or a mapping (a YAML complex key)",
                key_node.start_mark)
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first at line {seen[key] + 1})", key_node.start_mark)
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


SpecLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)

# A spec is a few hundred nodes; aliases (`*name`) may repeat a block, but a document that expands to more
# nodes than this is an alias bomb (each level of aliases multiplies the size): refused before it is built.
MAX_EXPANDED_NODES = 100_000


def _expanded_size(node: yaml.Node, sizes: dict[int, int], open_: set[int]) -> int:
    """Nodes of `node` with every alias expanded, computed once per node (so a bomb is sized, not expanded)."""
    if id(node) in sizes:
        return sizes[id(node)]
    if id(node) in open_:
        raise yaml.composer.ComposerError(None, None, "an alias refers to the block that contains it (a "
                                          "recursive alias); allowed: aliases to finished blocks", node.start_mark)
    open_.add(id(node))
    children = [] if isinstance(node, yaml.ScalarNode) else (
        node.value if isinstance(node, yaml.SequenceNode) else [n for pair in node.value for n in pair])
    total = 1
    for child in children:
        total = min(total + _expanded_size(child, sizes, open_), MAX_EXPANDED_NODES + 1)
    open_.discard(id(node))
    sizes[id(node)] = total
    return total


def load_yaml(text: str) -> object:
    """The YAML document of `text` (SpecLoader), refused (YAMLError) when its aliases expand it beyond
    MAX_EXPANDED_NODES nodes or refer to themselves."""
    loader = SpecLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        size = _expanded_size(node, {}, set())
        if size > MAX_EXPANDED_NODES:
            raise yaml.composer.ComposerError(
                None, None, f"the document expands to more than {MAX_EXPANDED_NODES:,} nodes through its aliases "
                "(an alias bomb?); allowed: a spec that expands to at most that many", node.start_mark)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def available_sweeps() -> list[str]:
    return sorted(p.stem for d in _sweep_dirs() if d.is_dir() for p in d.glob("*.yaml"))


def _sweep_dirs() -> list[Path]:
    extra = [Path(p) for p in os.environ.get(SWEEPS_ENV, "").split(os.pathsep) if p]
    return extra + [SWEEPS_DIR]


def names_a_file(name_or_path: str | Path) -> bool:
    """Whether a sweep argument is a path to a spec file rather than the name of one in sweeps/."""
    text = str(name_or_path)
    return text.endswith((".yaml", ".yml")) or os.sep in text or "/" in text


def resolve_spec_path(name_or_path: str | Path) -> Path:
    """A spec name (`sweeps/NAME.yaml`) or a path to a YAML file."""
    text = str(name_or_path)
    if names_a_file(text):
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


def load_spec(name_or_path: str | Path, max_trials: int = DEFAULT_MAX_TRIALS, check_trials: bool = True) -> Spec:
    """Load and validate `sweeps/NAME.yaml` or a YAML file at a path (at most `max_trials` trials; with
    `check_trials`, every trial built and checked: suite.sweep.parsing.parse_spec)."""
    path = resolve_spec_path(name_or_path)
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise SpecError(f"{path}: cannot read: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise SpecError(f"{path}: not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start}); "
                        "allowed: a YAML file in UTF-8") from None
    try:
        raw = load_yaml(text)
    except yaml.YAMLError as exc:
        raise SpecError(f"{path}: malformed YAML: {exc}") from exc
    return parse_spec(raw, str(path), default_name=path.stem, max_trials=max_trials, check_trials=check_trials)
