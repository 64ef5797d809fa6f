"""What a start leaves for later (issue 16, start to first answer; docs/serving.md, "Where
the time goes"): python-jsonschema loads on the first refusal it explains, gunicorn only
when it serves, requests with the first control client, URL builders on first use; the
collector paused for the start is on again after it, however the start ends."""

import gc
import json
import subprocess
import sys

import pytest
from click.testing import CliRunner
from werkzeug.routing import Map, Rule

from simulator.app import LazyBuildRule
from simulator.cli import main
from simulator.schemas import Schemas, default_schemas_dir

LATER = ("jsonschema", "referencing", "gunicorn", "requests", "asyncio")


def fresh(code: str) -> dict:
    """Run ``code`` in a new interpreter (nothing imported yet); it prints one JSON line."""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_an_app_and_its_first_answers_import_none_of_what_they_do_not_need():
    got = fresh(
        "import json, sys\n"
        "import simulator.cli, simulator.pytest_plugin, simulator.serve\n"
        "from simulator.app import create_app\n"
        "c = create_app({'seed': 1}).test_client()\n"
        "health = c.get('/__sim/health').status_code\n"
        "c.put('/__sim/state/botw', json={'api_keys': {'KEY': ['123']}})\n"
        "created = c.post('/crm/123', data={'email': 'a@example.com'},\n"
        "                 headers={'Authorization': 'Bearer KEY'}).status_code\n"
        f"later = [m for m in {LATER!r} if m in sys.modules]\n"
        "print(json.dumps({'health': health, 'created': created, 'later': later}))\n"
    )
    assert got == {"health": 200, "created": 201, "later": []}


def test_the_first_refusal_loads_python_jsonschema_and_answers_as_every_later_one():
    got = fresh(
        "import json, sys\n"
        "from simulator.app import create_app\n"
        "c = create_app({'seed': 1}).test_client()\n"
        "c.put('/__sim/state/botw', json={'api_keys': {'KEY': ['123']}})\n"
        "c.put('/__sim/settings', json={'strict_contract': True})\n"
        "before = 'jsonschema' in sys.modules\n"
        "def bad():\n"
        "    r = c.post('/crm/123', data={'email': 'not-an-email'},\n"
        "               headers={'Authorization': 'Bearer KEY'})\n"
        "    return [r.status_code, r.headers['X-Sim-Violations'], r.get_json()]\n"
        "first = bad()\n"
        "print(json.dumps({'before': before, 'after': 'jsonschema' in sys.modules,\n"
        "                  'first': first, 'second': bad()}))\n"
    )
    assert got["before"] is False and got["after"] is True
    assert got["first"] == got["second"]
    status, count, problem = got["first"]
    assert (status, count) == (422, "1")
    assert [e["pointer"] for e in problem["errors"]] == ["/email"]


def test_the_python_registry_is_built_once_on_first_use(tmp_path):
    (tmp_path / "a.json").write_text('{"type": "object", "properties": {"b": {"$ref": "b.json"}}}')
    (tmp_path / "b.json").write_text('{"type": "integer"}')
    schemas = Schemas(tmp_path)
    assert schemas._registry is None
    assert schemas.validate("a.json", {"b": 1}) == []  # Rust said valid: no registry
    assert schemas._registry is None
    [problem] = schemas.validate("a.json", {"b": "x"})
    assert problem["pointer"] == "/b" and problem["keyword"] == "type"
    assert schemas.registry is schemas.registry is schemas._registry


def test_the_shipped_schemas_validate_as_before():
    schemas = Schemas(default_schemas_dir().resolve())
    assert schemas.validate("botw/state.json", {"contacts": [{"contact_id": 2**70}]}) != []


@pytest.mark.parametrize(
    ("rule", "values"),
    [
        ("/crm/<listing>", {"listing": "a b/c"}),
        ("/x/<int:n>/<path:rest>", {"n": 3, "rest": "a/b", "q": "1 2"}),
        ("/static", {"extra": ["x", "y"]}),
    ],
)
def test_a_lazily_compiled_url_builder_builds_what_werkzeugs_own_builds(rule, values):
    eager = Map([Rule(rule, endpoint="e")]).bind("example.com")
    lazy = Map([LazyBuildRule(rule, endpoint="e")]).bind("example.com")
    for _ in range(2):  # compiled by the first call, reused by the second
        assert lazy.build("e", values) == eager.build("e", values)
        assert lazy.build("e", values, force_external=True) == eager.build(
            "e", values, force_external=True
        )


def test_a_refused_serve_in_process_leaves_the_collector_on():
    assert gc.isenabled()
    result = CliRunner().invoke(main, ["serve", "--workers", "0"])
    assert result.exit_code == 2
    assert gc.isenabled()


@pytest.mark.parametrize("enabled", [True, False])
def test_the_plugins_server_leaves_the_collector_as_it_found_it(enabled):
    from simulator.pytest_plugin import _Server

    if not enabled:
        gc.disable()
    try:
        server = _Server()
        server.close()
        assert gc.isenabled() is enabled
    finally:
        gc.enable()


def test_before_the_fork_the_imports_are_frozen_and_the_collector_is_on_again():
    got = fresh(
        "import gc, json\n"
        "gc.disable()\n"
        "import simulator.cli\n"
        "from simulator.serve import before_fork\n"
        "before_fork()\n"
        "print(json.dumps({'on': gc.isenabled(), 'frozen': gc.get_freeze_count()}))\n"
    )
    assert got["on"] is True
    assert got["frozen"] > 10_000
