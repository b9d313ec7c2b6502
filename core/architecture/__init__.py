"""core.architecture."""
