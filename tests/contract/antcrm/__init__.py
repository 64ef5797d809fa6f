"""antcrm contract tests."""
