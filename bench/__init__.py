"""Benchmarks of azure_apim.identity against the local Azure (see bench/README.md)."""
