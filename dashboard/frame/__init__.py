"""dashboard.frame."""
