"""botw contract tests."""
