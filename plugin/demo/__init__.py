"""Deterministic demo data for the demo, the tests and the benchmarks."""
