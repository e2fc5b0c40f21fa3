"""Benchmarks: accuracy (bench.accuracy) and speed under load (bench.perf); each writes bench/results/."""
