"""Measuring speed: a train step's throughput and FLOPs for the paper's runs, and the results file
with its table (`benchmarks/train_throughput.py`'s library)."""
