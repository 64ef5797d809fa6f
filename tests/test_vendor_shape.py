"""Every vendor package has one shape (docs/vendors/README.md, "The shape of a vendor
package"): the same files with the same roles, every route declared in routes.py, and the
schemas of every declared operation, no more and no fewer.

Each check is a function returning the problems it finds, run on every registered vendor
(and on the toy fifth vendor under tests/), and run on fabricated vendors to show that it
fails when the shape is broken.
"""

from __future__ import annotations

import ast
import importlib
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest
import toy_vendor
from flask import Flask

from simulator.schemas import default_schemas_dir
from simulator.vendors import VENDORS, Vendor

FILES = ("__init__", "routes", "models", "errors", "parsing", "fake")
# what parsing.py must not know (no store, no Flask); models.py: no Flask
NOT_IN_PARSING = ("flask", "werkzeug", "tinydb", "simulator.store")
NOT_IN_MODELS = ("flask", "werkzeug")


def package_of(vendor: Vendor) -> ModuleType:
    """The vendor's package: the one whose ``models`` defines its backend (or, when the
    backend is out of place, the module that does)."""
    module = vendor.backend.__module__
    return importlib.import_module(module.rpartition(".")[0] or module)


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def _forbidden(path: Path, banned: tuple[str, ...]) -> list[str]:
    return sorted(
        name
        for name in _imports(path)
        if any(name == b or name.startswith(b + ".") for b in banned)
    )


def file_problems(vendor: Vendor) -> list[str]:
    """The package has every file, each in its role."""
    package = package_of(vendor)
    name = package.__name__
    here = Path(package.__file__ or "").parent
    problems = [f"{f}.py is missing" for f in FILES if not (here / f"{f}.py").is_file()]
    if problems:
        return problems
    if vendor.backend.__module__ != f"{name}.models":
        problems.append(f"the backend is defined in {vendor.backend.__module__}, not models.py")
    if getattr(package, "VENDOR", None) is not vendor:
        problems.append("__init__.py does not define this Vendor as VENDOR")
    routes = importlib.import_module(f"{name}.routes")
    if getattr(routes, "operations", None) is not vendor.operations:
        problems.append("the Vendor's operations are not routes.operations")
    for op in vendor.operations:
        if op.view.__module__ != routes.__name__:
            problems.append(f"the view of {op.name} is defined in {op.view.__module__}")
    if vendor.http_error is not getattr(
        importlib.import_module(f"{name}.errors"), "http_error", None
    ):
        problems.append("the Vendor's http_error is not errors.http_error")
    if vendor.fake is not None and vendor.fake is not sys.modules.get(f"{name}.fake"):
        problems.append("the Vendor's fake is not its fake.py")
    for banned in _forbidden(here / "parsing.py", NOT_IN_PARSING):
        problems.append(f"parsing.py imports {banned}")
    for banned in _forbidden(here / "models.py", NOT_IN_MODELS):
        problems.append(f"models.py imports {banned}")
    return problems


def route_problems(vendor: Vendor) -> list[str]:
    """Every rule of the vendor's blueprint is a declared operation, with its rule and
    method, and every declared operation is a rule."""
    app = Flask(__name__)
    app.register_blueprint(vendor.blueprint)
    problems = []
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        name = rule.endpoint.removeprefix(vendor.slug + ".")
        op = vendor.operation(name)
        methods = (rule.methods or set()) - {"HEAD", "OPTIONS"}
        if op is None:
            problems.append(f"{rule.rule} ({rule.endpoint}) is not a declared operation")
        elif (rule.rule, methods) != (op.rule, {op.method}):
            problems.append(f"{name} is served as {sorted(methods)} {rule.rule}")
        else:
            served.add(name)
    problems += [f"{op.name} is not served" for op in vendor.operations if op.name not in served]
    return problems


def schema_problems(vendor: Vendor, root: Path) -> list[str]:
    """Each declared operation has its request schema and the schemas its answers name;
    each request schema belongs to a declared operation."""
    where = vendor.schemas_dir or root / vendor.slug
    problems = []
    for op in vendor.operations:
        if not (where / f"{op.name}.request.json").is_file():
            problems.append(f"{op.name}.request.json is missing")
        for status, names in op.answers.items():
            for schema in (names,) if isinstance(names, str) else names:
                if not (where / f"{schema}.json").is_file():
                    problems.append(f"{schema}.json (answer {status} of {op.name}) is missing")
    for path in sorted(where.rglob("*.request.json")):
        name = path.name.removesuffix(".request.json")
        if path.parent != where or vendor.operation(name) is None:
            problems.append(f"{path.relative_to(where)} belongs to no declared operation")
    return problems


# the toy fifth vendor (tests/test_fifth_vendor.py) too
ALL = [*VENDORS.values(), toy_vendor.VENDOR]


def test_every_registered_vendor_is_checked():
    assert {"omoto", "antcrm", "crmcom", "botw"} <= set(VENDORS)
    assert all(len(v.operations) > 0 for v in ALL)


@pytest.mark.parametrize("vendor", ALL, ids=lambda v: v.slug)
def test_the_package_has_every_file_in_its_role(vendor):
    assert file_problems(vendor) == []


@pytest.mark.parametrize("vendor", ALL, ids=lambda v: v.slug)
def test_every_route_is_a_declared_operation(vendor):
    assert route_problems(vendor) == []


@pytest.mark.parametrize("vendor", ALL, ids=lambda v: v.slug)
def test_every_operation_has_its_schemas_and_every_request_schema_its_operation(vendor):
    assert schema_problems(vendor, default_schemas_dir()) == []


# -- each check fails on a broken vendor ------------------------------------------------------
PACKAGE = {
    "__init__.py": """
        from simulator.vendors._base import Vendor
        from {pkg} import fake, routes
        from {pkg}.errors import http_error
        from {pkg}.models import FabBackend

        VENDOR = Vendor(
            slug="fab",
            title="Fabricated",
            prefix="/fab",
            operations=routes.operations,
            backend=FabBackend,
            http_error=http_error,
            fake=fake,
        )
    """,
    "routes.py": """
        from simulator.vendors._base import JSON_BODY, Operations

        operations = Operations()

        @operations("POST", "/things", reads=JSON_BODY, answers={{201: "make_thing.response"}})
        def make_thing(api):
            raise NotImplementedError
    """,
    "models.py": """
        from simulator.vendors._base import VendorBackend

        class FabBackend(VendorBackend):
            pass
    """,
    "errors.py": """
        from simulator.errors import VendorError

        def http_error(status):
            raise NotImplementedError
    """,
    "parsing.py": """
        from typing import Any

        def make_thing(doc: Any) -> Any:
            return doc
    """,
    "fake.py": """
        def credentials(seed):
            return {{}}
    """,
}
SCHEMAS = ("make_thing.request.json", "make_thing.response.json")


@pytest.fixture
def fabricate(tmp_path, monkeypatch):
    """A vendor package written under tmp_path, with ``changes`` to its files (None: the
    file is left out), imported under a name of its own."""
    monkeypatch.syspath_prepend(str(tmp_path))
    made: list[str] = []

    def make(changes: dict[str, str | None] | None = None) -> Vendor:
        pkg = f"fab_vendor_{len(made)}"
        made.append(pkg)
        here = tmp_path / pkg
        here.mkdir()
        for name, text in {**PACKAGE, **(changes or {})}.items():
            if text is not None:
                (here / name).write_text(textwrap.dedent(text.format(pkg=pkg)))
        vendor: Vendor = importlib.import_module(pkg).VENDOR
        return vendor

    yield make
    for name in [m for m in sys.modules if m.split(".")[0] in made]:
        del sys.modules[name]


def _schemas(where: Path, names=SCHEMAS) -> Path:
    where.mkdir(parents=True, exist_ok=True)
    for name in names:
        (where / name).write_text("{}")
    return where


def test_a_fabricated_vendor_of_the_right_shape_passes(fabricate, tmp_path):
    vendor = fabricate()
    _schemas(tmp_path / "schemas" / "fab")
    assert file_problems(vendor) == []
    assert route_problems(vendor) == []
    assert schema_problems(vendor, tmp_path / "schemas") == []


def test_a_missing_file_is_found(fabricate):
    vendor = fabricate({"parsing.py": None})
    assert file_problems(vendor) == ["parsing.py is missing"]


def test_a_file_out_of_its_role_is_found(fabricate):
    vendor = fabricate(
        {
            "parsing.py": "import flask\nfrom simulator.store import Store\n",
            "models.py": """
                from werkzeug.exceptions import NotFound
                from simulator.vendors._base import VendorBackend

                class FabBackend(VendorBackend):
                    pass
            """,
        }
    )
    assert file_problems(vendor) == [
        "parsing.py imports flask",
        "parsing.py imports simulator.store",
        "models.py imports werkzeug.exceptions",
    ]


def test_parts_of_the_vendor_out_of_their_files_are_found(fabricate):
    vendor = fabricate(
        {
            "__init__.py": """
                from simulator.vendors._base import Operations, Vendor, VendorBackend
                from {pkg} import routes

                class FabBackend(VendorBackend):
                    pass

                VENDOR = Vendor(
                    slug="fab",
                    title="Fabricated",
                    prefix="/fab",
                    operations=Operations(),
                    backend=FabBackend,
                    http_error=lambda status: None,
                )
            """
        }
    )
    pkg = package_of(vendor).__name__
    assert file_problems(vendor) == [
        f"the backend is defined in {pkg}, not models.py",
        "the Vendor's operations are not routes.operations",
        "the Vendor's http_error is not errors.http_error",
    ]


def test_a_view_declared_outside_routes_is_found(fabricate):
    vendor = fabricate(
        {
            "routes.py": """
                from simulator.vendors._base import JSON_BODY, Operations
                from {pkg}.parsing import make_thing

                operations = Operations()
                operations("POST", "/things", reads=JSON_BODY, answers={{}})(make_thing)
            """
        }
    )
    pkg = package_of(vendor).__name__
    assert file_problems(vendor) == [f"the view of make_thing is defined in {pkg}.parsing"]


def test_a_route_that_is_not_a_declared_operation_is_found(fabricate):
    vendor = fabricate()
    vendor.blueprint.add_url_rule("/extra", "extra", lambda: "", methods=["GET"])
    assert route_problems(vendor) == ["/extra (fab.extra) is not a declared operation"]


def test_missing_and_stray_schemas_are_found(fabricate, tmp_path):
    vendor = fabricate()
    where = _schemas(tmp_path / "schemas" / "fab", ["stray.request.json"])
    _schemas(where / "nested", ["make_thing.request.json"])
    assert schema_problems(vendor, tmp_path / "schemas") == [
        "make_thing.request.json is missing",
        "make_thing.response.json (answer 201 of make_thing) is missing",
        "nested/make_thing.request.json belongs to no declared operation",
        "stray.request.json belongs to no declared operation",
    ]
