"""TLS for ``crmsim serve``: ``crmsim cert`` makes a local CA and a certificate for the
vendors' host names (trustme), and ``--certfile``/``--keyfile`` are checked before serving."""

from __future__ import annotations

import datetime
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# The vendors' real host names, as simulator/intercept.py's DEFAULT_HOSTS take them (a test
# keeps the two in step): BOTW's `https://api.botw.org/crm/{listing_id}`; Omoto's
# `https://{domain}.omoto.io/omoto/...` (one host per customer); AntCRM and CRM.COM give each
# customer a listener URL or a server of its own, under antbuddy.com (the API host is
# apiring.antbuddy.com) and crm.com. A wildcard covers one label: name deeper hosts with
# --hosts.
VENDOR_HOSTS: dict[str, tuple[str, ...]] = {
    "omoto": ("*.omoto.io",),
    "antcrm": ("*.antbuddy.com",),
    "crmcom": ("*.crm.com",),
    "botw": ("api.botw.org",),
}
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
# mkcert's choice: Apple's TLS clients refuse server certificates valid for longer.
VALID_DAYS = 825
FILES = ("ca.pem", "cert.pem", "key.pem")


def default_hosts() -> list[str]:
    """Every vendor's host names, then this machine's names."""
    return [h for hosts in VENDOR_HOSTS.values() for h in hosts] + list(LOCAL_HOSTS)


class TlsRefused(ValueError):
    """A certificate or key that cannot serve, or files that would be overwritten."""


@dataclass(frozen=True)
class Made:
    ca: Path
    cert: Path
    key: Path
    hosts: tuple[str, ...]
    not_after: datetime.datetime


def make_certificate(out: Path, hosts: Iterable[str], *, force: bool = False) -> Made:
    """A new local CA (``ca.pem``; its private key is never written, so it can sign nothing
    else) and a certificate for ``hosts`` signed by it (``cert.pem``, ``key.pem`` readable by
    its owner only), in ``out``. Existing files are kept unless ``force``: clients may trust
    that CA already."""
    import trustme

    names = tuple(dict.fromkeys(h.strip() for h in hosts if h.strip()))
    if not names:
        raise TlsRefused("no host names to certify")
    paths = [out / name for name in FILES]
    existing = [str(p) for p in paths if p.exists()]
    if existing and not force:
        raise TlsRefused(
            f"refusing to overwrite {', '.join(existing)}: clients may trust that CA already; "
            "choose another --out, or --force to make a new CA"
        )
    out.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    not_after = now + datetime.timedelta(days=VALID_DAYS)
    try:
        ca = trustme.CA(organization_name="crmsim local CA")
        leaf = ca.issue_cert(
            *names,
            organization_name="crmsim",
            not_before=now - datetime.timedelta(days=1),  # clocks a little behind
            not_after=not_after,
        )
    except ValueError as exc:  # a name that is neither a DNS name nor an IP address
        raise TlsRefused(f"not a host name or address: {exc}") from None
    ca_path, cert_path, key_path = paths
    key_path.unlink(missing_ok=True)
    key_path.touch(mode=0o600)
    leaf.private_key_pem.write_to_path(str(key_path))
    leaf.cert_chain_pems[0].write_to_path(str(cert_path))
    ca.cert_pem.write_to_path(str(ca_path))
    return Made(ca_path, cert_path, key_path, names, not_after)


def check_pair(certfile: Path | None, keyfile: Path | None) -> None:
    """Both or neither; a certificate and a key that load and belong together."""
    if certfile is None and keyfile is None:
        return
    if certfile is None or keyfile is None:
        given, missing = (
            ("--certfile", "--keyfile") if keyfile is None else ("--keyfile", "--certfile")
        )
        raise TlsRefused(
            f"{given} needs {missing} (CRMSIM_CERTFILE and CRMSIM_KEYFILE): HTTPS takes a "
            "certificate and its private key; make both with `crmsim cert`"
        )
    for path, holds, what in (
        (certfile, "-----BEGIN CERTIFICATE-----", "PEM certificate"),
        (keyfile, "PRIVATE KEY-----", "PEM private key"),
    ):
        try:
            text = path.read_bytes()
        except OSError as exc:
            raise TlsRefused(f"cannot read {path}: {exc.strerror}") from None
        if holds.encode() not in text:
            raise TlsRefused(f"{path} holds no {what} (`crmsim cert` makes both files)")

    def no_password() -> str:
        raise TlsRefused(f"{keyfile} is encrypted: crmsim takes a key without a password")

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(certfile, keyfile, password=no_password)
    except ssl.SSLError as exc:
        raise TlsRefused(
            f"cannot serve HTTPS with --certfile {certfile} and --keyfile {keyfile}: "
            f"{exc.reason or exc} (a PEM certificate and the private key that belongs to it)"
        ) from None


def usage(made: Made, port: int = 8443) -> str:
    """What to do with the files, printed by ``crmsim cert``."""
    ca, cert, key = made.ca, made.cert, made.key
    lines = [
        f"wrote {ca} (the CA: trust it), {cert} and {key} (serve with them)",
        f"certificate for: {', '.join(made.hosts)}; valid until {made.not_after:%Y-%m-%d}",
        "",
        f"  crmsim serve --port {port} --certfile {cert} --keyfile {key}",
        f"  curl --cacert {ca} https://localhost:{port}/__sim/health",
        f"  requests.get(url, verify='{ca}')   httpx.Client(verify='{ca}')",
    ]
    named = [h for h in made.hosts if h not in LOCAL_HOSTS and not h.startswith("*.")]
    if named:
        host = "api.botw.org" if "api.botw.org" in named else named[0]
        path = "/crm/123" if host == "api.botw.org" else "/"
        lines += [
            f"  curl --cacert {ca} --resolve {host}:{port}:127.0.0.1 https://{host}:{port}{path}",
        ]
    lines += [
        "",
        "The CA's private key was not kept: this CA certifies these names and nothing else.",
        "More (the vendors' own host names on port 443, /etc/hosts): docs/serving.md, HTTPS.",
    ]
    return "\n".join(lines)
