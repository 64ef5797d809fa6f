"""Versions: the package, CHANGELOG.md, `crmsim --version`, health and the OpenAPI document
agree, so a user can pin crmsim and its control plane knowingly."""

import re
import tomllib
from pathlib import Path

from click.testing import CliRunner

from simulator import CONTROL_API_VERSION, __version__
from simulator.cli import main

ROOT = Path(__file__).resolve().parent.parent
CHANGELOG = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
RELEASE = re.compile(r"^## (\d+\.\d+\.\d+) - (\d{4}-\d{2}-\d{2})$", re.MULTILINE)


def test_the_changelogs_latest_release_is_the_packages_version():
    releases = RELEASE.findall(CHANGELOG)
    assert releases, "CHANGELOG.md names no release (## X.Y.Z - YYYY-MM-DD)"
    assert releases[0][0] == __version__
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["version"] == __version__


def test_the_changelog_has_an_unreleased_section_above_the_releases():
    unreleased = CHANGELOG.index("\n## Unreleased\n")
    assert unreleased < RELEASE.search(CHANGELOG).start()


def test_releases_are_listed_newest_first():
    versions = [tuple(map(int, v.split("."))) for v, _ in RELEASE.findall(CHANGELOG)]
    dates = [d for _, d in RELEASE.findall(CHANGELOG)]
    assert versions == sorted(versions, reverse=True) and len(set(versions)) == len(versions)
    assert dates == sorted(dates, reverse=True)


def test_version_is_semantic_and_control_api_major_minor():
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)
    assert re.fullmatch(r"\d+\.\d+", CONTROL_API_VERSION)
    # the changelog says which control API a release speaks
    assert f"(control API {CONTROL_API_VERSION})" in CHANGELOG


def test_crmsim_version_names_both_versions():
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"crmsim {__version__} (control API {CONTROL_API_VERSION})"


def test_health_reports_both_versions(client):
    body = client.get("/__sim/health").get_json()
    assert (body["version"], body["control_api"]) == (__version__, CONTROL_API_VERSION)
    # under a namespace too
    body = client.get("/__ns/t1/__sim/health").get_json()
    assert (body["version"], body["control_api"]) == (__version__, CONTROL_API_VERSION)


def test_the_openapi_document_versions_the_control_plane(client):
    info = client.get("/__sim/openapi.json").get_json()["info"]
    assert info["version"] == __version__
    assert info["x-crmsim-control-api"] == CONTROL_API_VERSION
    assert "CHANGELOG.md" in info["description"]
