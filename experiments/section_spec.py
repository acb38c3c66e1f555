"""The spec a reference section searches: the one place that says which sections search Table 2 only.

    python experiments/section_spec.py NAME COPY.yaml    # prints the spec to hand `bench sweep` / `bench report`

For a section in TABLE2_ONLY it writes COPY.yaml, sweeps/NAME.yaml with the `adaptive` key's `eps` set to
`[]` (any other setting of that key kept), and prints its path; for any other section it writes nothing and
prints sweeps/NAME.yaml. The copy changes which cells are searched, not how a trial trains: every trial it
plans has the original spec's config and hash and lands in the same store (the store folder is the spec's
`name`). Read with the suite's own YAML loader, so that every value means what it means to `bench sweep`.
experiments/reference_sections.sh searches each section with the printed spec and
experiments/reference_reports.sh replays that search with it (`--spec`).
"""

import sys
from pathlib import Path

import yaml

from suite.sweep.loading import load_yaml

# Sections whose search covers Table 2's levels only: MNIST, since the paper's Table 1 has no MNIST rows
# (docs/mnist_protocol.md, "What is searched"; decided before any MNIST trial ran).
TABLE2_ONLY = {"lenet300_mnist"}


def table2_only(source: Path, target: Path) -> None:
    spec = load_yaml(source.read_text())
    adaptive = spec.get("adaptive")
    spec["adaptive"] = {**(adaptive if isinstance(adaptive, dict) else {}), "eps": []}
    with open(target, "w") as f:
        yaml.safe_dump(spec, f, sort_keys=False)


if __name__ == "__main__":
    name, copy = sys.argv[1:3]
    source = Path("sweeps") / f"{name}.yaml"
    if name in TABLE2_ONLY:
        table2_only(source, Path(copy))
        print(copy)
    else:
        print(source)
