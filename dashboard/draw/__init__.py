"""dashboard.draw."""
