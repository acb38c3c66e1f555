"""bench: DWF vs. sparsification baselines — library package."""
