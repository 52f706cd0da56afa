"""Benchmarks: rerunnable scripts that report ratios measured in one run."""
