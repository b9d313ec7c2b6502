"""The test suite (a package, so that the benchmarks can use its helpers: ``from tests.harness import ...``)."""
