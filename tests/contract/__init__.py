"""Contract tests: one package per vendor, one module per operation."""
