"""Every shell command of the README runs as written from a clone after `make install`: each
one it names is a command every machine has (curl, make, docker...), a `make` target of the
Makefile, or a file of the project (`.venv/bin/crmsim`) with a subcommand it has; and a form
value holding '+', '&', '%' or a space goes through --data-urlencode, never a plain -d."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from simulator.cli import main

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
EVERYWHERE = {"curl", "make", "docker", "cat", "open", "xdg-open", "echo", "sleep", "for", "do"}
KEYWORDS = {"done", "do", "then", "fi", "EOF"}
FORM_UNSAFE = re.compile(r"[+&% ]")


def shell_blocks(text: str) -> list[str]:
    return re.findall(r"```(?:sh|bash|shell)\n(.*?)```", text, re.S)


def commands(block: str) -> list[list[str]]:
    """The block's simple commands as words: continuations joined, comments and here-documents
    left out, split at ;, &&, ||, | and &."""
    text = re.sub(r"<<'?(\w+)'?\n.*?\n\1\n", "\n", block, flags=re.S).replace("\\\n", " ")
    found = []
    pending = ""
    for line in text.splitlines():
        pending += line + "\n"
        lexer = shlex.shlex(pending, posix=True, punctuation_chars=";&|")
        lexer.whitespace_split = True
        lexer.commenters = "#"
        try:
            tokens = list(lexer)
        except ValueError:  # a quotation that goes on on the next line
            continue
        pending = ""
        words: list[str] = []
        for token in [*tokens, ";"]:
            if token and set(token) <= set(";&|"):
                if words:
                    found.append(words)
                words = []
            else:
                words.append(token)
    return found


def readme_commands() -> list[list[str]]:
    return [c for b in shell_blocks((ROOT / "README.md").read_text()) for c in commands(b)]


def makefile_targets() -> set[str]:
    return set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), re.M))


@pytest.mark.parametrize("words", readme_commands(), ids=lambda w: " ".join(w)[:60])
def test_a_readme_command_names_something_that_exists(words):
    while words and re.fullmatch(r"[A-Z_]+=.*", words[0]):  # VAR=value cmd
        words = words[1:]
    if not words or words[0] in KEYWORDS:
        return
    if words[0] == "for":  # for i in 1 2; do cmd ...
        words = words[words.index("do") + 1 :] if "do" in words else []
        return test_a_readme_command_names_something_that_exists(words)
    name = words[0]
    if name == "make":
        targets = [w for w in words[1:] if not w.startswith("-") and "=" not in w]
        assert set(targets) <= makefile_targets(), words
    elif name == ".venv/bin/crmsim":
        assert words[1] in main.commands, f"crmsim has no command {words[1]}"
    elif name == ".venv/bin/python":
        assert (ROOT / words[1]).is_file(), words
    elif "/" in name:
        raise AssertionError(f"{name}: not what `make install` makes")
    else:
        assert name in EVERYWHERE, f"{name}: not on PATH after `make install`; write the path"


def test_bare_crmsim_is_caught():
    [words] = commands("crmsim fake -o state.json  # a comment\n")
    with pytest.raises(AssertionError, match="not on PATH"):
        test_a_readme_command_names_something_that_exists(words)


def plain_form_values(words: list[str]) -> list[str]:
    return [
        value
        for flag, value in zip(words, words[1:], strict=False)
        if flag in ("-d", "--data")
        and not value.startswith(("{", "[", "@"))
        and FORM_UNSAFE.search(value.partition("=")[2])
    ]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_curl_form_values_that_need_encoding_are_urlencoded(doc):
    for block in shell_blocks(doc.read_text()):
        for words in commands(block):
            if words[0] == "curl":
                assert plain_form_values(words) == [], " ".join(words)


def test_a_plus_sent_with_plain_d_is_caught():
    [words] = commands("curl -X POST x -d email=a@b.co -d phone='+1 (555) 123-4567'\n")
    assert plain_form_values(words) == ["phone=+1 (555) 123-4567"]


def test_the_first_curl_session_runs_as_written(tmp_path):
    """The README's BOTW session with curl, against a served crmsim on a free port (for
    `make run &` and `make wait`): every call answers, the phone arrives with its '+'."""
    import os
    import shutil
    import subprocess

    import requests
    from _serve import serving

    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    text = (ROOT / "README.md").read_text()
    block = text.split("## A first session with curl", 1)[1].split("```sh\n", 1)[1]
    block = block.split("```", 1)[0]
    assert block.startswith("make run &\nmake wait")
    with serving() as (base, _proc):
        script = block.split("\n", 2)[2].replace("localhost:8080", base)
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
            env={**os.environ, "NO_PROXY": "*"},
        )
        assert done.returncode == 0, done.stderr
        journal = requests.get(base + "/__sim/journal", timeout=5).json()["entries"]
    assert [e["response"]["status"] for e in journal] == [201, 200, 200, 202]
    assert journal[0]["request"]["body"]["phone"] == "+1 (555) 123-4567"
    assert '{\n  "entries": [' in done.stdout  # ?pretty
