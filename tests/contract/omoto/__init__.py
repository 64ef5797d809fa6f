"""omoto contract tests."""
