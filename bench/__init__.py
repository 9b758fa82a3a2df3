"""Benchmarks: each `bench_*.py` has a `main()`; run them with `python -m bench [NAME ...]`."""
