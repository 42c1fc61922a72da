"""Benchmarks: `python -m bench --help`. Never part of the test suite."""
