"""Figures measured, never asserted; run from the repository root: ``python -m benchmarks.NAME``."""
