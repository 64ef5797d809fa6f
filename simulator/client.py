"""A Python client for the control plane: typed methods, clear exceptions.

from simulator.client import Client

sim = Client("http://127.0.0.1:8080", namespace="test-42")  # token: CRMSIM_CONTROL_TOKEN
sim.put_state({"botw": {"api_keys": {"KEY": ["123"]}}})
sim.vendor_url("botw")          # http://127.0.0.1:8080/__ns/test-42/crm
sim.journal(operation="botw.create_contact")
"""

from __future__ import annotations

from typing import Any

import requests

from simulator.config import control_token


class SimulatorUnavailable(Exception):
    """The simulator could not be reached at all."""


class SimulatorProblem(Exception):
    """A control call failed; ``problem`` is the RFC 9457 document the simulator answered."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        errors = problem.get("errors") or []
        where = "; ".join(f"{e.get('pointer') or '/'}: {e.get('message')}" for e in errors)
        super().__init__(
            f"{status} {problem.get('title', '')}: {problem.get('detail', '')}"
            + (f" [{where}]" if where else "")
        )

    @property
    def errors(self) -> list[dict[str, Any]]:
        return list(self.problem.get("errors") or [])


class Client:
    """The control plane of one namespace (``namespace=None`` is ``default``).

    ``token`` is the crmsim's control token (default: ``CRMSIM_CONTROL_TOKEN``), sent as
    ``Authorization: Bearer`` on control calls only (vendor calls carry the vendors' keys).
    """

    def __init__(
        self,
        base_url: str,
        namespace: str | None = None,
        session: requests.Session | None = None,
        timeout: float = 30.0,
        token: str | None = None,
    ) -> None:
        self.server = base_url.rstrip("/")
        self.namespace = namespace
        self.base_url = self.server + (f"/__ns/{namespace}" if namespace else "")
        self.session = session or requests.Session()
        self.timeout = timeout
        self.token = token or control_token()
        self._vendor_paths: dict[str, str] | None = None

    # -- plumbing -------------------------------------------------------------------------
    def vendor_url(self, vendor: str) -> str:
        """The base URL a vendor client should use for this namespace, where the server
        serves that vendor (its mounts included; asked once, from ``/__sim/health``)."""
        if self._vendor_paths is None:
            # Client's own call: a subclass may refuse control calls (the pytest plugin
            # against a real vendor), but where the vendors are is not a control call
            health = Client._call(self, "GET", "/health")
            self._vendor_paths = dict(health.get("vendors", {}))
        try:
            return self.base_url + self._vendor_paths[vendor]
        except KeyError:
            served = ", ".join(sorted(self._vendor_paths)) or "none"
            raise ValueError(
                f"{vendor} is not served by {self.server} (served: {served})"
            ) from None

    def namespace_client(self, namespace: str) -> Client:
        found = Client(self.server, namespace, self.session, self.timeout, self.token)
        found._vendor_paths = self._vendor_paths
        return found

    def _call(self, method: str, path: str, json: Any = None, params: Any = None) -> Any:
        try:
            r = self.session.request(
                method,
                self.base_url + "/__sim" + path,
                json=json,
                params=params,
                headers={"Authorization": f"Bearer {self.token}"} if self.token else None,
                timeout=self.timeout,
            )
        except requests.ConnectionError as exc:
            raise SimulatorUnavailable(f"crmsim is not reachable at {self.server}") from exc
        if r.status_code >= 400:
            try:
                problem = r.json()
            except ValueError:
                problem = {"title": r.reason, "detail": r.text[:500]}
            raise SimulatorProblem(r.status_code, problem)
        return r.json()

    # -- namespaces -----------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/health")
        return result

    def namespaces(self) -> list[str]:
        return list(self._call("GET", "/namespaces")["namespaces"])

    def drop(self) -> None:
        """Drop this namespace."""
        self._call("DELETE", "")

    def reset(self, vendors: list[str] | None = None) -> None:
        self._call("POST", "/reset", json={"vendors": vendors} if vendors else {})

    # -- state ----------------------------------------------------------------------------
    def state(self, vendor: str | None = None) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/state" + (f"/{vendor}" if vendor else ""))
        return result

    def put_state(self, doc: dict[str, Any], vendor: str | None = None) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            "PUT", "/state" + (f"/{vendor}" if vendor else ""), json=doc
        )
        return result

    # -- clock, seed, settings ------------------------------------------------------------
    def clock(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/clock")
        return result

    def freeze(self, now: str) -> dict[str, Any]:
        """Freeze the clock at an RFC 3339 time (``2024-06-01T12:00:00Z``)."""
        result: dict[str, Any] = self._call("PUT", "/clock", json={"now": now})
        return result

    def unfreeze(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("PUT", "/clock", json={"now": None})
        return result

    def advance(self, seconds: float) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", "/clock/advance", json={"seconds": seconds})
        return result

    def seed(self, seed: int) -> None:
        self._call("PUT", "/seed", json={"seed": seed})

    def settings(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/settings")
        return result

    def update_settings(self, **changes: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._call("PUT", "/settings", json=changes)
        return result

    # -- journal and outbox ---------------------------------------------------------------
    def journal(
        self,
        vendor: str | None = None,
        operation: str | None = None,
        status: int | None = None,
        limit: int | None = None,
        after: int | None = None,
        before: int | None = None,
    ) -> list[dict[str, Any]]:
        """Journal entries, oldest first; ``after``/``before`` (entry ids) and ``limit`` page
        through a long journal (docs/control-plane.md)."""
        params = {
            "vendor": vendor,
            "operation": operation,
            "status": status,
            "limit": limit,
            "after": after,
            "before": before,
        }
        found = self._call(
            "GET", "/journal", params={k: v for k, v in params.items() if v is not None}
        )
        return list(found["entries"])

    def journal_entry(self, entry_id: int) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", f"/journal/{entry_id}")
        return result

    def clear_journal(self) -> None:
        self._call("DELETE", "/journal")

    def outbox(self, vendor: str | None = None, kind: str | None = None) -> list[dict[str, Any]]:
        params = {k: v for k, v in (("vendor", vendor), ("kind", kind)) if v is not None}
        return list(self._call("GET", "/outbox", params=params)["entries"])

    def clear_outbox(self) -> None:
        self._call("DELETE", "/outbox")

    # -- faults ---------------------------------------------------------------------------
    def faults(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/faults")["faults"])

    def add_fault(self, **rule: Any) -> dict[str, Any]:
        """Add a fault rule (``vendor``, ``operation``, ``status``, ``delay_ms``, ``times``...)."""
        result: dict[str, Any] = self._call("POST", "/faults", json=rule)
        return result

    def remove_fault(self, rule_id: str) -> None:
        self._call("DELETE", f"/faults/{rule_id}")

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def openapi(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/openapi.json")
        return result
