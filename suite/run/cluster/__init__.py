"""Running on a cluster: submission as a Ray job or a Slurm batch job (`submit`, `slurm`), the checks the
batch script runs while Ray comes up (`ray_probe`), and each trial's share of a GPU (`gpu_share`)."""
