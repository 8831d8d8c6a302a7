"""Fakes and builders shared by the test suite and the benchmarks."""
