"""core.classroom."""
