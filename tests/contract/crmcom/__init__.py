"""crmcom contract tests."""
