"""The Ray backend of `bench sweep`: the only code of `suite` that talks to Ray Tune.

    session   start or join Ray, count the trial slots, shut down what it started
    tuner     the Tune callback that feeds `suite.run.progress`, the Tuner every phase uses, the trainables
    searchers the Searcher adapters: Optuna for the lr search, `AdaptivePlan` for the adaptive run
    phases    the three Tune runs a sweep is made of: lr searches, the grid, the adaptive search

A package rather than one module because these four jobs together are over
the 300 lines a module may have. `suite.run.driver` imports it only when a
sweep has something to run, so planning, dry runs and the summary never import
Ray. submit.py (Ray Jobs API) and ray_probe.py (Slurm start-up checks) stay
outside: they talk to a cluster, not to Tune.

Resources: each trial holds `cpus_per_trial` CPUs and `gpus_per_trial`
(possibly fractional) GPUs; `torch.set_num_threads` is set to the CPUs held.
Data: `suite.core.data.registry.load_dataset` caches per process; with
`reuse_actors=True` (all trials of a Tune run ask for the same resources) an
actor -- and its process with the loaded dataset -- serves trial after trial,
so each worker loads the data once (each trial reports `data_loaded`).
"""

import os

# Before Ray is imported (every module of this package imports it after this
# runs): no Tune CSV/JSON/TensorBoard logs, our own Ctrl-C handling, no
# usage-stats reporting (machines may be offline), the classic Tune output.
for _key, _value in {"TUNE_DISABLE_AUTO_CALLBACK_LOGGERS": "1", "TUNE_DISABLE_SIGINT_HANDLER": "1",
                     "RAY_USAGE_STATS_ENABLED": "0", "RAY_AIR_NEW_OUTPUT": "0"}.items():
    os.environ.setdefault(_key, _value)
