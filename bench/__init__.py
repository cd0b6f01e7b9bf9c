"""Benchmarks: synthetic evidence bases and the scripts that time lms against its floors."""
