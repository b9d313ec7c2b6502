"""dashboard.architecture."""
