"""Write a copy of a sweep spec whose adaptive search covers Table 2's levels only.

    python experiments/table2_only_spec.py sweeps/lenet300_mnist.yaml OUT.yaml

The copy adds `adaptive: {eps: []}` and changes nothing else, so every trial it plans has the
original spec's config and hash and lands in the same store (the store folder is the spec's
`name`). experiments/reference_sections.sh searches the MNIST section with it (the paper's Table 1
has no MNIST rows) and experiments/reference_reports.sh replays that search with it (`--spec`).
"""

import sys

import yaml

source, target = sys.argv[1:3]
with open(source) as f:
    spec = yaml.safe_load(f)
spec["adaptive"] = {"eps": []}
with open(target, "w") as f:
    yaml.safe_dump(spec, f, sort_keys=False)
