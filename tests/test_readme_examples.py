"""The README's Python examples are files the suite runs: each fenced block that follows a
line naming ``tests/....py`` ("this is `tests/examples/test_x.py`") must be that file, word
for word, so an example cannot rot while its test passes."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"this is `(tests/[\w/]+\.py)`[^\n]*\n(?:[^\n]*\n)*?```python\n(.*?)```", re.S)


def examples(text):
    return [(m.group(1), m.group(2)) for m in BLOCK.finditer(text)]


@pytest.mark.parametrize(("path", "code"), examples((ROOT / "README.md").read_text()))
def test_a_readme_example_is_the_file_the_suite_runs(path, code):
    assert (ROOT / path).read_text() == code


def test_the_readme_names_its_examples():
    assert "tests/test_plugin_example.py" in dict(examples((ROOT / "README.md").read_text()))


def test_a_changed_example_is_caught():
    text = "this is `tests/test_plugin_example.py`, run:\n\n```python\nimport os\n```\n"
    [(path, code)] = examples(text)
    assert (ROOT / path).read_text() != code
