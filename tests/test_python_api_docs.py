"""docs/python-api.md is generated from the client's and the plugin's docstrings
(``python -m simulator.docgen``) and kept in sync: regenerated here and compared."""

from simulator import client, docgen


def test_the_page_is_what_the_docstrings_say():
    assert docgen.OUTPUT.read_text(encoding="utf-8") == docgen.render(), (
        "docs/python-api.md is out of date: run python -m simulator.docgen"
    )


def test_every_public_method_of_the_clients_and_the_fixture_is_described():
    text = docgen.render()
    assert "(no description)" not in text
    for name in ("add_fault", "verify", "load_state", "crmsim_intercept", "SimulatorProblem"):
        assert f"### `{name}" in text


def test_a_changed_docstring_is_caught(monkeypatch):
    monkeypatch.setattr(client.Client.close, "__doc__", "Something else.")
    assert docgen.main(["--check"]) == 1
    monkeypatch.undo()
    assert docgen.main(["--check"]) == 0


def test_signatures_read_as_the_caller_sees_them():
    text = docgen.render()
    assert "### `add_fault(rule: Mapping[str, Any] | None = None, /, **fields: Any) -> " in text
    assert "Plan[" not in text and "(self" not in text and "'str" not in text
