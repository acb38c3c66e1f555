"""The one typer app of `bench` and what every command module shares (consoles, `fail`).

Command modules import this module and register on `app`; `suite.cli.main`
imports them all. Nothing here imports a command module, so there is no cycle.
"""

from __future__ import annotations

import typer
from rich.console import Console
from rich.text import Text

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="DWF vs. sparsification baselines: run, sweep, report.")
console = Console()
err_console = Console(stderr=True)


def fail(message: str, code: int = 2) -> None:
    """Print `message` as an error and exit with `code` (2: bad input).

    The message is printed as it is: never read as rich markup ("must be [lo, hi]" keeps its brackets) and
    never wrapped (a path or a value stays on one line, for a log and for grep)."""
    err_console.print(Text.assemble(("error:", "bold red"), " ", str(message)), soft_wrap=True, highlight=False)
    raise typer.Exit(code)


def parsed(parse, text: str | None, flag: str):
    """`parse(text, flag)` of an option's text (None where it was not given); exit 2 with the parser's message
    (it names the flag and what is allowed) where the text does not parse."""
    try:
        return None if text is None else parse(text, flag)
    except ValueError as exc:
        fail(str(exc))


def check_environment() -> None:
    """The environment variables a command reads, checked before any work ($BENCH_COMPILE)."""
    from suite.core.dwf.compile import compile_setting

    try:
        compile_setting()
    except ValueError as exc:
        fail(str(exc))
