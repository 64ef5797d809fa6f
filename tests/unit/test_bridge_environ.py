"""simulator/rsgi.py's ``Bridge.environ``: granian's RSGI scope as a PEP 3333 environ."""

from __future__ import annotations

from typing import Any

from simulator import rsgi


class Headers:
    """granian's header map: ``items()`` gives every (name, value), repeats included."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.pairs = pairs

    def items(self) -> list[tuple[str, str]]:
        return self.pairs


class Scope:
    def __init__(self, headers: list[tuple[str, str]], server: str = "127.0.0.1:8080") -> None:
        self.server = server
        self.client = "[::1]:54321"
        self.method = "POST"
        self.path = "/crm/ü"
        self.query_string = "a=1"
        self.http_version = "1.1"
        self.scheme = "http"
        self.authority = None
        self.headers = Headers(headers)


def bridge() -> rsgi.Bridge:
    return rsgi.Bridge(lambda _e, _s: [b""], 1, lambda _path: 1000)


def test_environ_follows_pep_3333() -> None:
    environ: dict[str, Any] = bridge().environ(
        Scope(
            [
                ("host", "example.test"),
                ("x-trace-id", "t1"),
                ("content-type", "text/plain"),
                ("content-length", "3"),
                ("accept", "a/b"),
                ("accept", "c/d"),
            ]
        )
    )
    assert environ["SERVER_NAME"] == "127.0.0.1"
    assert environ["SERVER_PORT"] == "8080"
    assert (environ["REMOTE_ADDR"], environ["REMOTE_PORT"]) == ("::1", "54321")
    assert environ["PATH_INFO"] == "/crm/ü".encode().decode("latin-1")
    assert environ["HTTP_HOST"] == "example.test"
    assert environ["HTTP_X_TRACE_ID"] == "t1"
    assert environ["CONTENT_TYPE"] == "text/plain"
    assert environ["CONTENT_LENGTH"] == "3"
    assert "HTTP_CONTENT_TYPE" not in environ
    assert environ["HTTP_ACCEPT"] == "a/b,c/d"  # repeated headers join


def test_a_repeated_content_type_keeps_the_last() -> None:
    environ = bridge().environ(
        Scope([("content-type", "text/plain"), ("content-type", "application/json")])
    )
    assert environ["CONTENT_TYPE"] == "application/json"


def test_kept_names_and_servers_answer_as_the_first_time() -> None:
    b = bridge()
    first = b.environ(Scope([("X-Odd-Case", "1")], server="10.0.0.1:81"))
    again = b.environ(Scope([("X-Odd-Case", "2")], server="10.0.0.1:81"))
    other = b.environ(Scope([("x-odd-case", "3")], server="[::1]:82"))
    assert (first["HTTP_X_ODD_CASE"], again["HTTP_X_ODD_CASE"]) == ("1", "2")
    assert other["HTTP_X_ODD_CASE"] == "3"
    assert (again["SERVER_NAME"], again["SERVER_PORT"]) == ("10.0.0.1", "81")
    assert (other["SERVER_NAME"], other["SERVER_PORT"]) == ("::1", "82")


def test_names_kept_are_bounded() -> None:
    b = bridge()
    for n in range(rsgi.NAMES + 50):
        environ = b.environ(Scope([(f"x-h{n}", "v")]))
        assert environ[f"HTTP_X_H{n}"] == "v"
    assert len(b.names) == rsgi.NAMES
