"""core.grids."""
