"""core.explain."""
