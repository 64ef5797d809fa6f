"""The docs agree with the code where they list what the code declares.

* docs/control-plane.md's route table lists every control route of ``ROUTES``
  (simulator/admin/routes.py), and nothing else;
* its settings table lists every ``Config`` field with its ``CRMSIM_*`` variable, default
  and ``crmsim serve`` flag, and the page names every flag of ``crmsim serve``;
* simulator/config.py is the only module of simulator/ that reads the environment, as its
  docstring says.
"""

import ast
import dataclasses
import re
from pathlib import Path

import pytest

from simulator.admin.routes import ROUTES, blueprint
from simulator.cli import serve
from simulator.config import Config

ROOT = Path(__file__).resolve().parent.parent
CONTROL_PLANE = ROOT / "docs" / "control-plane.md"
ENVIRONMENT_READER = "simulator/config.py"


def _cells(line):
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def table_rows(text, header):
    """The body rows of the Markdown table whose header row starts with ``header``."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("|") and _cells(line)[: len(header)] == header:
            rows = []
            for row in lines[i + 2 :]:
                if not row.startswith("|"):
                    break
                rows.append(_cells(row))
            return rows
    raise AssertionError(f"no table with the header {header}")


def _ticked(cell):
    return re.findall(r"`([^`]+)`", cell)


def documented_routes(text):
    """{(method, path)} of the route table: one path a row, its methods in the first cell."""
    found = set()
    for methods, path, *_ in table_rows(text, ["methods", "path"]):
        (where,) = _ticked(path)
        found |= {(method, where) for method in _ticked(methods)}
    return found


def declared_routes(routes, prefix):
    """{(method, path)} of ``Route`` entries, with ``<int:x>`` written ``{x}``."""
    return {(r.method, prefix + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", r.rule)) for r in routes}


def documented_settings(text):
    """{setting: (variable, flag, default)} of the settings table."""
    rows = table_rows(text, ["setting", "variable"])
    found = {}
    for setting, variable, flag, default, *_ in rows:
        (name,) = _ticked(setting)
        found[name] = (variable.strip("`"), flag.strip("`").split(" ")[0], default)
    return found


def environment_readers(source):
    """Lines of a module's source that read the process environment."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
            and node.attr in ("environ", "environb", "getenv", "getenvb")
        ):
            lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            if {a.name for a in node.names} & {"environ", "environb", "getenv", "getenvb"}:
                lines.append(node.lineno)
    return sorted(lines)


def _page():
    return CONTROL_PLANE.read_text(encoding="utf-8")


def _settings():
    return [f for f in dataclasses.fields(Config) if f.name != "extra"]


def test_the_route_table_lists_every_control_route_and_no_other():
    documented = documented_routes(_page())
    declared = declared_routes(ROUTES, blueprint.url_prefix)
    assert sorted(declared - documented) == [], "control routes missing from the table"
    assert sorted(documented - declared) == [], "rows of the table that are no control route"


def test_the_settings_table_lists_every_setting_with_its_variable_and_default():
    documented = documented_settings(_page())
    assert sorted(documented) == sorted(f.name for f in _settings())
    for f in _settings():
        variable, _, default = documented[f.name]
        assert variable == "CRMSIM_" + f.name.upper()
        if isinstance(f.default, (int, str)) and not isinstance(f.default, bool):
            assert f"`{f.default}`" in default, (f.name, default)
        elif isinstance(f.default, bool):
            assert default == str(f.default).lower(), (f.name, default)


def test_every_serve_flag_is_documented_and_every_documented_flag_sets_its_setting():
    page = _page()
    options = {p.opts[0]: p.name for p in serve.params if p.opts[0].startswith("--")}
    missing = [flag for flag in options if not re.search(re.escape(flag) + r"(?![\w-])", page)]
    assert missing == []
    for setting, (_, flag, _) in documented_settings(page).items():
        if flag:
            assert options.get(flag) == setting, (setting, flag)


def test_only_config_reads_the_environment():
    readers = {}
    for path in sorted((ROOT / "simulator").rglob("*.py")):
        where = path.relative_to(ROOT).as_posix()
        lines = environment_readers(path.read_text(encoding="utf-8"))
        if lines and where != ENVIRONMENT_READER:
            readers[where] = lines
    assert readers == {}
    assert environment_readers((ROOT / ENVIRONMENT_READER).read_text(encoding="utf-8"))


# -- the checks themselves can fail ------------------------------------------------------------


FAKE_PAGE = """
| methods | path | answer |
| --- | --- | --- |
| `GET`, `PUT` | `/__sim/clock` | the clock |
| `GET` | `/__sim/journal/{entry_id}` | one entry |

| setting | variable | `crmsim serve` flag | default | what it does |
| --- | --- | --- | --- | --- |
| `port` | `CRMSIM_PORT` | `--port` | `8080` | the port |
"""


def test_a_route_missing_from_the_table_is_found():
    @dataclasses.dataclass
    class FakeRoute:
        method: str
        rule: str

    routes = [FakeRoute("GET", "/clock"), FakeRoute("GET", "/journal/<int:entry_id>")]
    routes.append(FakeRoute("POST", "/clock/advance"))
    missing = declared_routes(routes, "/__sim") - documented_routes(FAKE_PAGE)
    assert missing == {("POST", "/__sim/clock/advance")}
    assert documented_routes(FAKE_PAGE) - declared_routes(routes, "/__sim") == {
        ("PUT", "/__sim/clock")
    }


def test_settings_rows_are_read():
    assert documented_settings(FAKE_PAGE) == {"port": ("CRMSIM_PORT", "--port", "`8080`")}
    with pytest.raises(AssertionError):
        table_rows("no table here", ["setting", "variable"])


def test_a_module_that_reads_the_environment_is_found():
    source = "import os\nfrom os import getenv\nA = os.environ.get('X')\nB = os.getenv('Y')\n"
    assert environment_readers(source) == [2, 3, 4]
    assert environment_readers("import os\nos.replace('a', 'b')\n") == []
