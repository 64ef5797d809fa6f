"""The tests' shared helpers (tests/helpers.py) fail when they should."""

import itertools
import os
import time

import pytest
from flask import Flask, jsonify
from helpers import ANY, answers, expect, read_line, wait_until


@pytest.fixture
def answer():
    app = Flask(__name__)

    @app.get("/json")
    def json_answer():
        return jsonify({"a": 1}), 201

    @app.get("/text")
    def text_answer():
        return "plain", 200, {"Content-Type": "text/plain"}

    return app.test_client()


def test_expect_checks_status_then_type_then_body_in_that_argument_order(answer):
    assert expect(answer.get("/json"), 201, {"a": 1}) == {"a": 1}
    assert expect(answer.get("/json"), 201) == {"a": 1}  # body left out: any body
    with pytest.raises(AssertionError, match="201"):
        expect(answer.get("/json"), 200, {"a": 1})
    with pytest.raises(AssertionError):
        expect(answer.get("/json"), 201, {"a": 2})
    with pytest.raises(AssertionError, match="text/plain"):
        expect(answer.get("/text"), 200)
    assert expect(answer.get("/text"), 200, "plain", mimetype="text/plain") == "plain"
    assert ANY == object() and repr(ANY) == "ANY"


def test_wait_until_returns_the_first_truthy_value():
    counter = itertools.count()
    assert wait_until(lambda: next(counter) >= 3 and "done", timeout=5) == "done"


def test_wait_until_fails_at_its_deadline_naming_what_it_waited_for():
    started = time.monotonic()
    with pytest.raises(AssertionError, match="the flag did not happen within 0.2 s"):
        wait_until(lambda: False, timeout=0.2, what="the flag")
    assert 0.2 <= time.monotonic() - started < 5


def test_answers_turns_the_given_errors_into_not_yet():
    calls = iter([ConnectionError(), "up"])

    def call():
        value = next(calls)
        if isinstance(value, Exception):
            raise value
        return value

    assert wait_until(answers(call, ConnectionError), timeout=5) == "up"
    with pytest.raises(KeyError):
        answers(lambda: {}["x"], ConnectionError)()


def test_read_line_fails_at_its_deadline_instead_of_blocking():
    read_end, write_end = os.pipe()
    with os.fdopen(read_end, "rb") as reader, os.fdopen(write_end, "wb") as writer:
        with pytest.raises(AssertionError, match="the banner was not printed within 0.1 s"):
            read_line(reader, timeout=0.1, what="the banner")
        writer.write(b"hello\n")
        writer.flush()
        assert read_line(reader, timeout=5) == b"hello\n"
