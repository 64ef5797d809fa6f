"""The ``crmsim`` command."""

from __future__ import annotations

import sys

import click

from simulator import __version__
from simulator.config import Config


@click.group()
@click.version_option(__version__, prog_name="crmsim")
def main() -> None:
    """crmsim: a stateful simulator of four CRM vendors' HTTP APIs, for contract testing."""


@main.command()
@click.option("--host", default=None, help="Address to bind (default 127.0.0.1, CRMSIM_HOST).")
@click.option("--port", type=int, default=None, help="Port (default 8080, CRMSIM_PORT).")
@click.option("--threads", type=int, default=None, help="Worker threads (default 8).")
@click.option(
    "--workers",
    type=int,
    default=1,
    show_default=True,
    help="Must be 1: all state lives in one process.",
)
@click.option("--seed", type=int, default=None, help="Seed every namespace's id source.")
@click.option(
    "--strict-contract",
    is_flag=True,
    default=None,
    help="Answer 422 to vendor requests that violate their schema.",
)
def serve(
    host: str | None,
    port: int | None,
    threads: int | None,
    workers: int,
    seed: int | None,
    strict_contract: bool | None,
) -> None:
    """Serve every vendor and the control plane under gunicorn."""
    from simulator.serve import WorkersRefused, check_workers
    from simulator.serve import serve as run

    try:
        check_workers(workers)
    except WorkersRefused as exc:
        click.echo(f"crmsim: {exc}", err=True)
        sys.exit(2)
    overrides = {
        "host": host,
        "port": port,
        "threads": threads,
        "seed": seed,
        "strict_contract": strict_contract,
    }
    config = Config.from_env().merged({k: v for k, v in overrides.items() if v is not None})
    from simulator.vendors import VENDORS

    served = ", ".join(v for v in config.vendors if v in VENDORS)
    click.echo(
        f"crmsim {__version__} serving on http://{config.host}:{config.port} (vendors: {served})",
        err=True,
    )
    run(config)


@main.command()
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False),
    default="-",
    help="Write to this file instead of standard output.",
)
def openapi(output: str) -> None:
    """Print the OpenAPI 3.1 document of every vendor route and the control plane."""
    import json

    from simulator.app import create_app
    from simulator.openapi import build

    text = json.dumps(build(create_app()), indent=2) + "\n"
    with click.open_file(output, "w") as out:
        out.write(text)
