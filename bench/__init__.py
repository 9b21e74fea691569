"""Benchmarks. Each prints its figure beside a raw-driver baseline measured in the same run."""
