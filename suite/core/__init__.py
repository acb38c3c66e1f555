"""The building blocks a trial is made of: models, datasets, DWF factorization, metrics, devices."""
