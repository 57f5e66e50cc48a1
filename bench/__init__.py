"""Benchmarks: commands that start servers and print numbers (never timed tests)."""
