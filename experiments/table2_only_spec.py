"""Write a copy of a sweep spec whose adaptive search covers Table 2's levels only.

    python experiments/table2_only_spec.py sweeps/lenet300_mnist.yaml OUT.yaml

The copy sets the `adaptive` key's `eps` to `[]` (keeping any other setting of that key) and changes
nothing else, so every trial it plans has the original spec's config and hash and lands in the same
store (the store folder is the spec's `name`). Read with the suite's own YAML loader, so that every
value means what it means to `bench sweep`. experiments/reference_sections.sh searches the MNIST
section with it (the paper's Table 1 has no MNIST rows) and experiments/reference_reports.sh replays
that search with it (`--spec`).
"""

import sys
from pathlib import Path

import yaml

from suite.sweep.loading import load_yaml

source, target = sys.argv[1:3]
spec = load_yaml(Path(source).read_text())
adaptive = spec.get("adaptive")
spec["adaptive"] = {**(adaptive if isinstance(adaptive, dict) else {}), "eps": []}
with open(target, "w") as f:
    yaml.safe_dump(spec, f, sort_keys=False)
