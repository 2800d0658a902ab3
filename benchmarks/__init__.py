"""Reproducible performance measurements (run as modules, not part of the test suite)."""
