"""Running sweeps: the plan, the workers, the searches (learning rate, adaptive ε), the one Ray backend, submission."""
