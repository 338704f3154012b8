"""Benchmarks behind ``make bench``: the measurements in README and docs/benchmarks.md."""
