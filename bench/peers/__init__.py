"""Benchmarks of calendly-elt against peer tools on the same sandbox account (see peers_bench.py)."""
