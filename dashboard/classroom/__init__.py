"""dashboard.classroom."""
