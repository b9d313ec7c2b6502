"""dashboard.figures."""
