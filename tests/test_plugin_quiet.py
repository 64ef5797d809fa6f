"""The pytest plugin's in-process server keeps out of a failing test's captured output: no
werkzeug request lines (with ANSI colours) on stderr, a plain DEBUG record per request."""

import logging

import requests


def test_requests_are_debug_records_without_colour(crmsim, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    requests.get(crmsim.url("botw") + "/123", timeout=5)
    assert [r for r in caplog.records if r.name == "werkzeug"] == []
    [record] = [
        r
        for r in caplog.records
        if r.name == "simulator.pytest_plugin" and "/123" in r.getMessage()
    ]
    assert record.levelno == logging.DEBUG
    assert '"GET /__ns/' in record.getMessage() and '/crm/123 HTTP/1.1" 403 ' in record.getMessage()
    assert "\x1b[" not in record.getMessage()
    out, err = capfd.readouterr()
    assert "/123" not in err and "\x1b[" not in err
