"""Benchmarks: each module measures this system next to a ceiling in the same run."""
