"""dashboard.training."""
