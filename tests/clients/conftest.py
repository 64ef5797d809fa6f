"""The served crmsim the client stacks talk to: granian (the default, the shared ``served``
fixture) and gunicorn (``--server gunicorn``), each a real process on a free port."""

import pytest
from _serve import serving


@pytest.fixture(scope="session")
def served_gunicorn():
    with serving("--server", "gunicorn", "--threads", "8") as (base, _proc):
        yield base


@pytest.fixture(params=["granian", "gunicorn"])
def server(request):
    """The base URL of a served crmsim, once per HTTP server."""
    name = "served" if request.param == "granian" else "served_gunicorn"
    return request.getfixturevalue(name)
