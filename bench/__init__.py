"""Benchmarks of the guidance suite (not tests: they measure, they do not assert on time)."""
