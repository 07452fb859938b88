"""Benchmarks run by `make bench`; figures are written to bench/results.json."""
