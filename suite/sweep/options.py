"""The options a sweep is run with that `bench submit` passes on to the sweep it submits, declared once.

`SweepOptions` is the one declaration: each field is one option, and its metadata (`OptionInfo`) says
what the option does. From it come
- the typer options of `bench sweep` and of `bench submit` (suite.cli.sweep.sweep_option_parameters),
- the overrides of the spec (`apply`: the fields with an `applies` function, suite.sweep.overrides), applied
  before the spec is expanded, once per command (`expand`),
- the flags of a submitted job's `bench sweep` (`flags`: every field away from its default),
so an option added here is an option of both commands, applied, and passed on, with nothing else to edit.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from suite.sweep import overrides
from suite.sweep.spec import Spec

if TYPE_CHECKING:  # the expansion imports the methods (torch): only when a command expands a spec
    from suite.sweep.expansion import Expansion

PASSED_ON = "Passed on to bench sweep."
SEARCHES = ("bisect", "shared")
LEVEL_RULES = ("interpolated", "measured")


@dataclass(frozen=True)
class OptionInfo:
    help: str  # the help of `bench sweep`
    submit_help: str = PASSED_ON  # the help of `bench submit`, which passes the option on
    applies: Callable[[Spec, Any], Spec] | None = None  # how a value other than None changes the spec
    parse: Callable[[str, str], Any] | None = None  # (text, flag) -> value, for an option given as text
    switch: bool = False  # a flag without a value (`--adaptive`), not `--adaptive/--no-adaptive`

    def flag(self, name: str) -> str:
        return "--" + name.replace("_", "-")


def option(default: Any = None, help: str = "", **info: Any) -> Any:
    """A dataclass field that is one sweep option (its OptionInfo under metadata['sweep'])."""
    return dataclasses.field(default=default, metadata={"sweep": OptionInfo(help=help, **info)})


def parse_ints(text: str, flag: str) -> tuple[int, ...]:
    try:
        values = tuple(int(part) for part in text.split(",") if part.strip() != "")
    except ValueError:
        values = ()
    if not values:
        raise ValueError(f"{flag} {text!r}: allowed: comma-separated integers, e.g. 0,1,2")
    return values


def parse_names(text: str, flag: str) -> tuple[str, ...]:
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    if not names:
        raise ValueError(f"{flag} {text!r}: allowed: comma-separated method names, e.g. dwf,gmp")
    return names


@dataclass(frozen=True)
class SweepOptions:
    epochs: int | None = option(help="Override the training epochs of every trial.", applies=overrides.with_epochs)
    seeds: tuple[int, ...] | None = option(help="Override the seeds, e.g. 0,1.", applies=overrides.with_seeds,
                                           parse=parse_ints)
    methods: tuple[str, ...] | None = option(help="Run only these methods of the spec, e.g. dwf,gmp.",
                                             applies=overrides.only_methods, parse=parse_names)
    max_grid: int | None = option(help="Cap every λ and compression grid to N values spread evenly over its range "
                                       "(endpoints kept).", applies=overrides.capped)
    lr_budget: int | None = option(help="Trials of each `auto` learning-rate search.",
                                   applies=overrides.with_lr_budget)
    cpus_per_trial: float | None = option(help="CPUs each trial holds (and torch threads).",
                                          applies=overrides.with_cpus_per_trial)
    gpus_per_trial: float | None = option(help="GPUs each trial holds (fractions share a GPU).",
                                          applies=overrides.with_gpus_per_trial)
    max_trials: int | None = option(help="Refuse a spec with more trials than this (default 20000), counted before "
                                         "it is expanded.", submit_help=f"{PASSED_ON[:-1]} (and checked here first).")
    adaptive: bool = option(False, switch=True, help="Search each Table 1 / 2 cell by bisection (spec key "
                                                     "`adaptive`) instead of running the whole grid.")
    search: str = option("bisect", help="With --adaptive: bisect (each cell alone) or shared (one model per method "
                                        "variant, seed racing, Table 2 levels estimated; README, issue 25).")
    level_rule: str = option("interpolated", help="With --search shared: a Table 2 level interpolated between two "
                                                  "bracketing configurations of every seed, or measured (a "
                                                  "configuration within the tolerance above the level).")

    @classmethod
    def from_command_line(cls, values: dict[str, Any]) -> "SweepOptions":
        """The options of parsed command-line `values` (the text of a `parse` option parsed); ValueError names
        the flag of a value that does not parse."""
        parsed = {}
        for f in dataclasses.fields(cls):
            value, info = values[f.name], f.metadata["sweep"]
            parsed[f.name] = info.parse(value, info.flag(f.name)) if info.parse and value is not None else value
        return cls(**parsed)

    def apply(self, spec: Spec) -> Spec:
        """The spec with every override given applied (SpecError naming the flag of a value not allowed)."""
        for f in dataclasses.fields(self):
            value, applies = getattr(self, f.name), f.metadata["sweep"].applies
            if applies is not None and value is not None:
                spec = applies(spec, value)
        return spec

    def expand(self, name: str) -> "Expansion":
        """The spec `name` names, loaded (refused beyond `max_trials`), the overrides applied, and then expanded:
        every trial built and checked once, for the whole command (suite.sweep.expansion.expand_spec)."""
        from suite.sweep.expansion import expand_spec
        from suite.sweep.loading import load_spec
        from suite.sweep.spec import DEFAULT_MAX_TRIALS

        limit = DEFAULT_MAX_TRIALS if self.max_trials is None else self.max_trials
        return expand_spec(self.apply(load_spec(name, max_trials=limit, check_trials=False)))

    def flags(self) -> list[str]:
        """The options as a submitted job's `bench sweep` gets them: those away from their defaults."""
        out: list[str] = []
        for f in dataclasses.fields(self):
            value, info = getattr(self, f.name), f.metadata["sweep"]
            if value == f.default:
                continue
            if info.switch:
                out.append(info.flag(f.name))
            else:
                out += [info.flag(f.name), ",".join(map(str, value)) if isinstance(value, tuple) else str(value)]
        return out

    def report_flags(self, adaptive: bool, spec_path: str | None) -> list[str]:
        """What `bench report` needs to report this sweep as it ran: its spec where that is not sweeps/NAME.yaml
        (`spec_path`), its methods, training length, seeds and grid cap, and its searches replayed as they ran."""
        out = ["--spec", spec_path] if spec_path else []
        out += ["--methods", ",".join(self.methods)] if self.methods else []
        out += ["--epochs", str(self.epochs)] if self.epochs is not None else []
        out += ["--seeds", ",".join(map(str, self.seeds))] if self.seeds else []
        out += ["--max-grid", str(self.max_grid)] if self.max_grid is not None else []
        if adaptive and self.search == "shared":
            out += ["--search", "shared"] + (["--level-rule", self.level_rule] if self.level_rule != "interpolated"
                                             else [])
        elif self.adaptive:  # the spec's own `adaptive` key the report finds itself
            out.append("--adaptive")
        return out

    def search_problem(self, adaptive: bool) -> str | None:
        """Why --search and --level-rule are not allowed as given (None when they are): known values, and only
        where they apply; `adaptive`: the sweep is adaptive (by --adaptive or by its spec)."""
        if self.search not in SEARCHES:
            return f"--search {self.search}: allowed: {', '.join(SEARCHES)}"
        if self.search == "shared" and not adaptive:
            return "--search shared: allowed only with --adaptive (or the spec key `adaptive`)"
        if self.level_rule not in LEVEL_RULES:
            return f"--level-rule {self.level_rule}: allowed: {', '.join(LEVEL_RULES)}"
        if self.level_rule != "interpolated" and self.search != "shared":
            return "--level-rule: allowed only with --search shared"
        return None


__all__ = ["OptionInfo", "SweepOptions", "option", "parse_ints", "parse_names"]
