"""Rule ids cited in the code, the schemas and the tests resolve in docs/vendors/*.md.

The vendor reference (docs/vendors/) defines every rule as a bullet that starts with its id
in bold (`* **OM-KEY-1 The API key.** ...`, docs/vendors/README.md). Code cites those ids; a
citation of an id that no page defines, or of the team's upstream specification (`§3.1`,
`A-C1`), which is not in this repository, fails here.
"""

import os
import re
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "vendors"
SCANNED = ("simulator", "schemas", "tests")
SUFFIXES = {".py", ".json", ".yaml", ".yml", ".js", ".html", ".css", ".txt", ".toml"}
THIS_FILE = Path(__file__).resolve()

# OM-KEY-1, AC-SCHEMA-2, GEN-JSON-1 (vendor, topic, number) and the older CC-T1, OM-H1.
RULE_ID = r"(?:OM|AC|CC|BW|GEN)-(?:[A-Z]+-[0-9]+|[A-Z]+[0-9]+)"
CITED = re.compile(rf"(?<![A-Za-z0-9_-])({RULE_ID})(?![A-Za-z0-9_-])")
DEFINED = re.compile(rf"^\s*[*-] \*\*({RULE_ID})(?![A-Za-z0-9_-])", re.MULTILINE)
# Citations of the upstream specification: a section sign, or an ambiguity id (A-B10).
SPEC_CITATION = re.compile(r"§|(?<![A-Za-z0-9_-])A-[A-Z][0-9]+(?![A-Za-z0-9_-])")


def definitions(text):
    """Ids defined in one page's text: each bold id that starts a bullet."""
    return DEFINED.findall(text)


def defined_ids(pages):
    """{id: [page, ...]} over the given pages."""
    found = defaultdict(list)
    for page in pages:
        for rule in definitions(page.read_text(encoding="utf-8")):
            found[rule].append(page.name)
    return found


def scanned_files(roots):
    """Text files under the given directories, skipping hidden and cache directories.

    Symbolic links to directories are not followed (simulator/_schemas is schemas/).
    """
    for root in roots:
        for folder, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if not d.startswith((".", "__")))
            for name in sorted(files):
                path = Path(folder) / name
                if path.suffix in SUFFIXES and path.resolve() != THIS_FILE:
                    yield path


def citations(paths, pattern=CITED):
    """{match: ["path:line", ...]} of a pattern over files."""
    found = defaultdict(list)
    for path in paths:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        for number, line in enumerate(lines, 1):
            for match in pattern.finditer(line):
                where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
                found[match.group(0)].append(f"{where}:{number}")
    return found


def undefined(cited, defined):
    """Cited ids that no page defines, with where they are cited."""
    return {rule: where for rule, where in sorted(cited.items()) if rule not in defined}


def _pages():
    return sorted(DOCS.glob("*.md"))


def test_every_cited_rule_id_is_defined_in_the_vendor_docs():
    cited = citations(scanned_files(ROOT / d for d in SCANNED))
    assert len(cited) > 15, "the scan found too few cited ids: is the regex still right?"
    assert undefined(cited, defined_ids(_pages())) == {}


def test_every_rule_id_is_defined_once():
    twice = {rule: pages for rule, pages in defined_ids(_pages()).items() if len(pages) > 1}
    assert twice == {}


def test_ids_mentioned_in_the_vendor_docs_are_defined_there():
    cited = citations(_pages())
    assert undefined(cited, defined_ids(_pages())) == {}


def test_no_citation_of_the_upstream_specification_remains():
    found = citations(scanned_files(ROOT / d for d in SCANNED), SPEC_CITATION)
    assert dict(found) == {}


# -- the checks themselves can fail ------------------------------------------------------------


def test_a_cited_id_that_no_page_defines_is_reported(tmp_path):
    page = tmp_path / "fake.md"
    page.write_text(
        "* **OM-FAKE-1 A real rule.** Text that mentions OM-FAKE-2 in passing.\n"
        "- **CC-Z9 Older form.** Text.\n"
        "**OM-FAKE-3** is bold but not a bullet, so no definition.\n",
        encoding="utf-8",
    )
    code = tmp_path / "code.py"
    code.write_text(
        '"""Cites OM-FAKE-1, CC-Z9 and OM-FAKE-999 (AC-FAKE-2)."""\nX = "xOM-FAKE-4"\n',
        encoding="utf-8",
    )
    defined = defined_ids([page])
    assert sorted(defined) == ["CC-Z9", "OM-FAKE-1"]
    cited = citations([code])
    assert sorted(cited) == ["AC-FAKE-2", "CC-Z9", "OM-FAKE-1", "OM-FAKE-999"]
    assert sorted(undefined(cited, defined)) == ["AC-FAKE-2", "OM-FAKE-999"]
    assert undefined({"OM-FAKE-1": ["x:1"]}, defined) == {}


def test_a_citation_of_the_specification_is_reported(tmp_path):
    code = tmp_path / "code.py"
    code.write_text(
        '"""Per §3.1 and A-B10."""\nALT = "G1"  # not a spec citation\nID = "XA-B10"\n',
        encoding="utf-8",
    )
    found = citations([code], SPEC_CITATION)
    assert sorted(found) == ["A-B10", "§"]
