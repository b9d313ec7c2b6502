"""core.training.jobs."""
