"""Benchmarks: the app's intake and lookup paths against plain-driver baselines (see README.md)."""
