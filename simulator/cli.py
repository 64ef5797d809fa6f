"""The ``crmsim`` command."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from simulator import CONTROL_API_VERSION, __version__
from simulator.config import Config


@click.group()
@click.version_option(
    __version__,
    prog_name="crmsim",
    message=f"%(prog)s %(version)s (control API {CONTROL_API_VERSION})",
)
def main() -> None:
    """crmsim: a stateful simulator of four CRM vendors' HTTP APIs, for contract testing."""


@main.command()
@click.option("--host", default=None, help="Address to bind (default 127.0.0.1, CRMSIM_HOST).")
@click.option("--port", type=int, default=None, help="Port (default 8080, CRMSIM_PORT).")
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=None,
    help="Threads running requests (default 2, CRMSIM_THREADS). Under granian only those that "
    "may wait (a delay, a held namespace lock, a control request): the rest run on its event "
    "loop.",
)
@click.option(
    "--server",
    type=click.Choice(["granian", "gunicorn"]),
    default=None,
    help="HTTP server (default granian, CRMSIM_SERVER); see docs/serving.md.",
)
@click.option(
    "--workers",
    type=int,
    default=None,
    help="Worker processes (default 1, CRMSIM_WORKERS); more than 1 only with a shared "
    "--store: the memory store lives in one process.",
)
@click.option(
    "--store",
    default=None,
    metavar="memory|redis://HOST:PORT/DB",
    help="Where worlds live (CRMSIM_STORE): memory (default, this process) or a Redis that "
    "every crmsim pointing at it shares (docs/scale-out.md).",
)
@click.option(
    "--seed",
    type=int,
    default=None,
    help="Seed every namespace's id source (default: unseeded, CRMSIM_SEED).",
)
@click.option(
    "--strict-contract",
    is_flag=True,
    default=None,
    help="Answer 422 to vendor requests that violate their schema (CRMSIM_STRICT_CONTRACT).",
)
@click.option(
    "--data",
    type=click.Path(dir_okay=False),
    default=None,
    help="Keep every namespace in this file across restarts (CRMSIM_DATA).",
)
@click.option(
    "--snapshot-interval",
    type=click.FloatRange(min=0.01, max=1.0),
    default=1.0,
    show_default=True,
    help="With --data: seconds between snapshots while anything changes.",
)
@click.option(
    "--control-token",
    default=None,
    help="Require 'Authorization: Bearer TOKEN' on /__sim (CRMSIM_CONTROL_TOKEN, which "
    "other users of the machine cannot read in the process list).",
)
@click.option(
    "--open-control-plane",
    is_flag=True,
    default=None,
    help="Serve the control plane without a token beyond loopback, on purpose "
    "(CRMSIM_OPEN_CONTROL_PLANE).",
)
@click.option(
    "--mount",
    "mounts",
    multiple=True,
    metavar="VENDOR=/PATH",
    help="Serve VENDOR under /PATH instead of its default base path, e.g. crmcom=/crm "
    "(repeatable; CRMSIM_MOUNTS=crmcom=/crm,botw=/botw). Overlapping paths are refused.",
)
@click.option(
    "--certfile",
    type=click.Path(dir_okay=False),
    default=None,
    help="Serve HTTPS with this PEM certificate (CRMSIM_CERTFILE; with --keyfile; make one "
    "with `crmsim cert`).",
)
@click.option(
    "--keyfile",
    type=click.Path(dir_okay=False),
    default=None,
    help="The certificate's private key, PEM (CRMSIM_KEYFILE).",
)
@click.option(
    "--shadow",
    "shadow",
    multiple=True,
    metavar="VENDOR=URL",
    help="Also send each VENDOR request to its real sandbox in the background and keep the "
    "differences in the journal entry's drift (repeatable; no environment variable; "
    "docs/drift.md).",
)
@click.option(
    "--generate-control-token",
    is_flag=True,
    default=False,
    help="Without a token (and without --open-control-plane), make one up and print it "
    "(the Docker image's default).",
)
def serve(
    host: str | None,
    port: int | None,
    threads: int | None,
    server: str | None,
    workers: int | None,
    store: str | None,
    seed: int | None,
    strict_contract: bool | None,
    data: str | None,
    snapshot_interval: float,
    control_token: str | None,
    open_control_plane: bool | None,
    mounts: tuple[str, ...],
    certfile: str | None,
    keyfile: str | None,
    shadow: tuple[str, ...],
    generate_control_token: bool,
) -> None:
    """Serve every vendor and the control plane (granian, or gunicorn)."""
    import gc

    # no collector passes over the imports (they all live on): simulator/serve.py turns it
    # back on before the server runs, and so does the end of the command (a refusal, or
    # the command run in-process by tests) (docs/serving.md, "Start to first answer")
    if gc.isenabled():
        gc.disable()
        click.get_current_context().call_on_close(gc.enable)
    from simulator.serve import WorkersRefused, check_workers
    from simulator.serve import serve as run

    overrides: dict[str, Any] = {
        "host": host,
        "port": port,
        "threads": threads,
        "workers": workers,
        "store": store,
        "server": server,
        "seed": seed,
        "strict_contract": strict_contract,
        "data": Path(data) if data else None,
        "snapshot_interval": snapshot_interval,
        "control_token": control_token,
        "open_control_plane": open_control_plane,
        "mounts": mounts or None,
        "certfile": Path(certfile) if certfile else None,
        "keyfile": Path(keyfile) if keyfile else None,
    }
    if shadow:
        from simulator.proxy import parse_vendors

        try:
            overrides["shadow"] = parse_vendors(shadow)
        except ValueError as exc:
            click.echo(f"crmsim: --shadow {exc}", err=True)
            sys.exit(2)
    from simulator.config import BadSetting

    try:
        config = Config.from_env().merged({k: v for k, v in overrides.items() if v is not None})
    except BadSetting as exc:
        click.echo(f"crmsim: bad setting {exc}", err=True)
        sys.exit(2)
    from simulator.vendors import VENDORS

    try:  # overlapping base paths are refused before anything starts (CC-M1)
        from simulator.mounts import mount

        served_vendors = mount((VENDORS[v] for v in config.vendors if v in VENDORS), config.mounts)
    except BadSetting as exc:
        click.echo(f"crmsim: {exc}", err=True)
        sys.exit(2)
    try:
        check_workers(config)
    except WorkersRefused as exc:
        click.echo(f"crmsim: {exc}", err=True)
        sys.exit(2)
    config = _control_plane_door(config, generate_control_token)

    if config.data is not None:
        from simulator.persist import SnapshotRefused, precheck

        try:
            precheck(config.data)
        except SnapshotRefused as exc:
            click.echo(str(exc), err=True)
            sys.exit(2)
    from simulator.tls import TlsRefused, check_pair

    try:  # HTTPS: both files, readable, and belonging together (simulator/tls.py)
        check_pair(config.certfile, config.keyfile)
    except TlsRefused as exc:
        click.echo(f"crmsim: {exc}", err=True)
        sys.exit(2)
    from simulator.serve import PortUnavailable, check_port

    try:
        check_port(config.host, config.port)
    except PortUnavailable as exc:
        click.echo(f"crmsim: {exc}", err=True)
        sys.exit(2)
    served = ", ".join(
        v.slug + (f" at {v.prefix}" if v.slug in config.mounts else "") for v in served_vendors
    )
    click.echo(
        f"crmsim {__version__} serving on {'https' if config.certfile else 'http'}://"
        f"{config.host}:{config.port} (vendors: {served})",
        err=True,
    )
    _say_when_ready(config)
    run(config)


def _say_when_ready(config: Config) -> None:
    """Print "ready" with the URL once the server answers its health check (a background
    thread of this process; it gives up silently after 10 minutes)."""
    import threading

    from simulator.ready import wait_until_serving

    host = "127.0.0.1" if config.host in ("0.0.0.0", "") else config.host
    host = "[::1]" if host == "::" else f"[{host}]" if ":" in host else host
    url = f"{'https' if config.certfile else 'http'}://{host}:{config.port}"

    def watch() -> None:
        took = wait_until_serving(url, timeout=600)
        if took is not None:
            click.echo(f"crmsim: ready on {url} (answered /__sim/health in {took:.1f} s)", err=True)

    threading.Thread(target=watch, name="crmsim-ready", daemon=True).start()


def _control_plane_door(config: Config, generate: bool) -> Config:
    """The config to serve, with a generated token if asked for one; exits 2 when the control
    plane would be open beyond loopback by accident (simulator/guard.py)."""
    from dataclasses import replace

    from simulator.guard import exposure, is_loopback

    if generate and not config.control_token and not config.open_control_plane:
        import secrets

        config = replace(config, control_token=secrets.token_urlsafe(24))
        click.echo(
            f"crmsim: control token (generated; send 'Authorization: Bearer <token>' to "
            f"/__sim, or set CRMSIM_CONTROL_TOKEN to choose one): {config.control_token}",
            err=True,
        )
    refused = exposure(config)
    if refused:
        click.echo(f"crmsim: {refused}", err=True)
        sys.exit(2)
    if config.open_control_plane and not config.control_token and not is_loopback(config.host):
        click.echo(
            f"crmsim: the control plane is open to anyone who reaches {config.host}:"
            f"{config.port} (--open-control-plane)",
            err=True,
        )
    return config


@main.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default=".",
    show_default=True,
    help="Directory for ca.pem, cert.pem and key.pem.",
)
@click.option(
    "--hosts",
    "hosts",
    multiple=True,
    metavar="NAME",
    help="Host names or addresses to certify (repeatable, or comma-separated; default: the "
    "vendors' host names, localhost, 127.0.0.1 and ::1). Wildcards: '*.omoto.io'.",
)
@click.option("--force", is_flag=True, help="Overwrite existing files (a new CA).")
def cert(out: str, hosts: tuple[str, ...], force: bool) -> None:
    """Make a local CA and a certificate for the vendors' host names, for HTTPS."""
    from simulator.tls import TlsRefused, default_hosts, make_certificate, usage

    names = [h for item in hosts for h in item.split(",")] or default_hosts()
    try:
        made = make_certificate(Path(out), names, force=force)
    except TlsRefused as exc:
        click.echo(f"crmsim: {exc}", err=True)
        sys.exit(2)
    click.echo(usage(made))


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


@main.command()
@click.option("--seed", type=int, default=0, show_default=True, help="Same seed, same document.")
@click.option(
    "--size",
    type=click.IntRange(min=0),
    default=1000,
    show_default=True,
    help="Records per vendor.",
)
@click.option(
    "--vendors",
    default=None,
    help="Comma-separated vendors (default: all four).",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False),
    default="-",
    help="Write to this file instead of standard output.",
)
def fake(seed: int, size: int, vendors: str | None, output: str) -> None:
    """Write a realistic state document (load it with PUT /__sim/state)."""
    from simulator.fake import fakeable, write

    chosen = [v.strip() for v in vendors.split(",") if v.strip()] if vendors else None
    known = fakeable()
    unknown = sorted(set(chosen or ()) - set(known))
    if unknown:
        raise click.BadParameter(
            f"unknown vendors: {', '.join(unknown)} (known: {', '.join(known)})",
            param_hint="--vendors",
        )
    with click.open_file(output, "w", encoding="utf-8") as out:
        write(out, seed, size, chosen)
        out.write("\n")
    from simulator.fake import summary

    click.echo(summary(seed, size, chosen), err=True)  # stdout stays the JSON document


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--target", default=None, help="A running crmsim (default: in-process).")
@click.option("--junit", type=click.Path(dir_okay=False), default=None, help="Write JUnit XML.")
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Scenario files run at once, each in its own namespace.",
)
@click.option(
    "--max-examples",
    type=click.IntRange(min=1),
    default=None,
    help="Cap property scenarios' examples (HYPOTHESIS_PROFILE=ci caps at 25).",
)
@click.option(
    "--control-token",
    default=None,
    help="The --target's control token (default: CRMSIM_CONTROL_TOKEN).",
)
def replay(
    paths: tuple[str, ...],
    target: str | None,
    junit: str | None,
    jobs: int,
    max_examples: int | None,
    control_token: str | None,
) -> None:
    """Run scenario files (directories: their *.yaml), each in a fresh namespace."""
    from simulator.config import control_token as token_from_env
    from simulator.replay import replay as run

    token = control_token or token_from_env()
    sys.exit(run(paths, target, junit, jobs, max_examples, control_token=token))


@main.command()
@click.option(
    "--target",
    default=None,
    help="The running crmsim (default: http://127.0.0.1:8080, host and port from CRMSIM_HOST "
    "and CRMSIM_PORT).",
)
@click.option("--namespace", default=None, help="The namespace to record (default: default).")
@click.option(
    "--since-state",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="The state the session started from (curl /__sim/state > start.json).",
)
@click.option("--name", default="Recorded session", show_default=True, help="The scenario's name.")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False),
    required=True,
    help="The scenario file to write.",
)
@click.option(
    "--control-token",
    default=None,
    help="The --target's control token (default: CRMSIM_CONTROL_TOKEN).",
)
def record(
    target: str | None,
    namespace: str | None,
    since_state: str | None,
    name: str,
    output: str,
    control_token: str | None,
) -> None:
    """Write a namespace's journal as a scenario that replays green."""
    from simulator.config import control_token as token_from_env
    from simulator.replay import record as run

    target = target or _local_url()
    sys.exit(run(target, namespace, since_state, output, name, control_token or token_from_env()))


def _local_url() -> str:
    """The default --target: crmsim on this machine, at CRMSIM_HOST and CRMSIM_PORT."""
    from simulator.config import BadSetting, local_url

    try:
        return local_url()
    except BadSetting as exc:
        click.echo(f"crmsim: bad setting {exc}", err=True)
        sys.exit(2)


@main.command()
@click.option(
    "--target",
    default=None,
    help="The crmsim to wait for (default: http://127.0.0.1:8080, host and port from "
    "CRMSIM_HOST and CRMSIM_PORT).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    default=120.0,
    show_default=True,
    help="Seconds to wait before giving up (exit 1).",
)
def wait(target: str | None, timeout: float) -> None:
    """Wait until a crmsim answers its health check, then print its URL (exit 1 on timeout)."""
    from simulator.ready import wait_until_serving

    url = target or _local_url()
    took = wait_until_serving(url, timeout)
    if took is None:
        click.echo(f"crmsim wait: {url} did not answer within {timeout:g} s", err=True)
        sys.exit(1)
    click.echo(url)


@main.command()
@click.option(
    "--vendor",
    "vendors",
    multiple=True,
    required=True,
    metavar="VENDOR=URL",
    help="Forward VENDOR's paths to its real base URL, e.g. botw=https://sandbox.example "
    "(repeatable).",
)
@click.option(
    "--record",
    "output",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the session as a scenario to this file (again after every exchange).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", type=int, default=8081, show_default=True, help="Port to listen on.")
@click.option(
    "--redact",
    "redact",
    multiple=True,
    metavar="NAME|/POINTER",
    help="Also redact this header, query parameter or body field name (any depth), or the "
    "request body's field at this JSON pointer (repeatable; docs/drift.md lists the defaults).",
)
@click.option("--no-default-redact", is_flag=True, help="Redact only what --redact names.")
@click.option(
    "--name",
    default="Recorded by crmsim proxy",
    show_default=True,
    help="The recorded scenario's name.",
)
def proxy(
    vendors: tuple[str, ...],
    output: str | None,
    host: str,
    port: int,
    redact: tuple[str, ...],
    no_default_redact: bool,
    name: str,
) -> None:
    """Forward vendor requests to the real vendors and record them as a scenario."""
    from simulator.proxy import (
        DEFAULT_REDACT,
        Proxy,
        Recording,
        Redactor,
        make_server,
        parse_vendors,
    )

    try:
        urls = parse_vendors(vendors)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--vendor") from None
    names = (() if no_default_redact else DEFAULT_REDACT) + redact
    recording = Recording(Path(output), Redactor(names), name) if output else None
    try:
        server = make_server(Proxy(urls, recording), host, port)
    except OSError as exc:
        click.echo(f"crmsim proxy: cannot listen on {host}:{port}: {exc.strerror}", err=True)
        sys.exit(2)
    forwarded = ", ".join(f"{v} -> {u}" for v, u in urls.items())
    click.echo(
        f"crmsim proxy on http://{host}:{server.server_port} ({forwarded})"
        + (f", recording to {output}" if output else ""),
        err=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    if recording is not None:
        click.echo(f"crmsim proxy: {len(recording.entries)} step(s) in {output}", err=True)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option(
    "--real",
    "reals",
    multiple=True,
    required=True,
    metavar="VENDOR=URL",
    help="The real vendor's sandbox base URL, e.g. botw=https://sandbox.example (repeatable).",
)
@click.option("--target", default=None, help="A running crmsim (default: in-process).")
@click.option("--junit", type=click.Path(dir_okay=False), default=None, help="Write JUnit XML.")
@click.option(
    "--ignore",
    "ignore",
    multiple=True,
    metavar="FIELD",
    help="Compare this body field (any depth) by JSON type only, e.g. contact_id (repeatable).",
)
@click.option(
    "--control-token",
    default=None,
    help="The --target's control token (default: CRMSIM_CONTROL_TOKEN).",
)
def drift(
    paths: tuple[str, ...],
    reals: tuple[str, ...],
    target: str | None,
    junit: str | None,
    ignore: tuple[str, ...],
    control_token: str | None,
) -> None:
    """Replay scenarios against the real sandbox and crmsim; report what differs (exit 1)."""
    from simulator.config import control_token as token_from_env
    from simulator.drift import run
    from simulator.proxy import parse_vendors

    try:
        urls = parse_vendors(reals)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--real") from None
    token = control_token or token_from_env()
    sys.exit(run(list(paths), urls, target, junit, ignore, control_token=token))
