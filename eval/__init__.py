"""Fixed evaluation sets, deterministic metrics, runner and report."""
