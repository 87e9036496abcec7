"""Training: synthetic data, datasets, configs, the shared training loop, metrics."""
