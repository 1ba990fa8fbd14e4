"""Load and timing benchmarks of the formulary at Hong Kong hospital scale (see docs/benchmarks.md)."""
