"""Benchmarks: run them as scripts (``uv run python benchmarks/<name>.py``); see docs/benchmarks.md."""
