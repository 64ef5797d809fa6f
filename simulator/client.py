"""Python clients for the control plane: typed methods, clear exceptions, sync and async.

    from simulator.client import AsyncClient, Client

    sim = Client("http://127.0.0.1:8080", namespace="test-42")  # token: CRMSIM_CONTROL_TOKEN
    sim.put_state({"botw": {"api_keys": {"KEY": ["123"]}}})
    sim.vendor_url("botw")          # http://127.0.0.1:8080/__ns/test-42/crm
    sim.journal(operation="botw.create_contact")
    sim.verify(operation="botw.create_contact", body={"email": "ann@example.com"}, times=1)

    async with AsyncClient("http://127.0.0.1:8080", namespace="test-42") as sim:
        await sim.journal(operation="botw.create_contact")   # the same methods, awaited

The API is written once. Each method of ``_Api`` is a *plan*: a generator that yields the
control calls it needs (``Call``: method, path, body, query) and receives each decoded
answer, then returns its result; it never does I/O itself. ``Client`` runs a plan with
``requests`` (or an ``httpx.Client`` given as ``session``), ``AsyncClient`` awaits it with
``httpx.AsyncClient``; nothing else differs, so the two cannot drift apart
(``tests/test_async_client.py`` checks the names and signatures).
"""

from __future__ import annotations

import inspect
import json
import sys
from collections.abc import Callable, Coroutine, Generator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Concatenate, Generic, ParamSpec, TypeVar, overload

from simulator.config import control_token

if TYPE_CHECKING:
    import httpx
    import requests

P = ParamSpec("P")
T = TypeVar("T")


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


# -- one implementation of the API ----------------------------------------------------------
@dataclass(frozen=True)
class Call:
    """One control-plane request a method makes: ``path`` is under ``/__sim``."""

    method: str
    path: str
    json: Any = None
    params: Mapping[str, Any] | None = None
    # False for /health: where the vendors are served is not a control call (the pytest
    # plugin, against a real vendor, refuses control calls but still asks it)
    control: bool = True


Plan = Generator[Call, Any, T]


def decode(status: int, reason: str, content: bytes) -> Any:
    """A control answer, decoded; an error status raises ``SimulatorProblem``."""
    if status >= 400:
        try:
            problem = json.loads(content)
        except ValueError:
            problem = None
        if not isinstance(problem, dict):
            text = content.decode("utf-8", errors="replace")
            problem = {"title": reason, "detail": text[:500]}
        raise SimulatorProblem(status, problem)
    return json.loads(content) if content else None


class api(Generic[P, T]):  # noqa: N801 (used as a decorator, like property)
    """An API method, written once as a plan. Read from a ``Client`` it is a method that
    runs the plan; read from an ``AsyncClient``, a coroutine method that awaits it."""

    def __init__(self, plan: Callable[Concatenate[Any, P], Plan[T]]) -> None:
        self.plan = plan
        self.__name__ = plan.__name__
        self.__doc__ = plan.__doc__
        signature = inspect.signature(plan)
        self.__signature__ = signature.replace(parameters=list(signature.parameters.values())[1:])

    @overload
    def __get__(self, obj: None, owner: type[Any] | None = None) -> api[P, T]: ...

    @overload
    def __get__(
        self, obj: AsyncClient, owner: type[Any] | None = None
    ) -> Callable[P, Coroutine[Any, Any, T]]: ...

    @overload
    def __get__(self, obj: Client, owner: type[Any] | None = None) -> Callable[P, T]: ...

    def __get__(self, obj: Any, owner: type[Any] | None = None) -> Any:
        if obj is None:
            return self
        method = obj._bind(self)
        method.__name__ = method.__qualname__ = self.__name__
        method.__doc__ = self.__doc__
        method.__signature__ = self.__signature__
        return method


def _request_pattern(given: Mapping[str, Any] | None, fields: dict[str, Any]) -> dict[str, Any]:
    from simulator.verify import pattern

    return pattern(given, **fields)


class _Api:
    """The control plane of one namespace (``namespace=None`` is ``default``), as plans.

    ``token`` is the crmsim's control token (default: ``CRMSIM_CONTROL_TOKEN``), sent as
    ``Authorization: Bearer`` on control calls only (vendor calls carry the vendors' keys).
    """

    def __init__(
        self, base_url: str, namespace: str | None, timeout: float, token: str | None
    ) -> None:
        self.server = base_url.rstrip("/")
        self.namespace = namespace
        self.base_url = self.server + (f"/__ns/{namespace}" if namespace else "")
        self.timeout = timeout
        self.token = token or control_token()
        self._vendor_paths: dict[str, str] | None = None

    def _url(self, call: Call) -> str:
        return self.base_url + "/__sim" + call.path

    def _headers(self) -> dict[str, str] | None:
        return {"Authorization": f"Bearer {self.token}"} if self.token else None

    # -- plumbing -------------------------------------------------------------------------
    @api
    def vendor_url(self, vendor: str) -> Plan[str]:
        """The base URL a vendor client should use for this namespace, where the server
        serves that vendor (its mounts included; asked once, from ``/__sim/health``)."""
        if self._vendor_paths is None:
            health = yield Call("GET", "/health", control=False)
            self._vendor_paths = dict(health.get("vendors", {}))
        try:
            return self.base_url + self._vendor_paths[vendor]
        except KeyError:
            served = ", ".join(sorted(self._vendor_paths)) or "none"
            raise ValueError(
                f"{vendor} is not served by {self.server} (served: {served})"
            ) from None

    # -- namespaces -----------------------------------------------------------------------
    @api
    def health(self) -> Plan[dict[str, Any]]:
        """``GET /__sim/health``: status, version, control API version, and where each
        vendor is served."""
        result: dict[str, Any] = yield Call("GET", "/health")
        return result

    @api
    def namespaces(self) -> Plan[list[str]]:
        """The names of the namespaces in use (``GET /__sim/namespaces``)."""
        return list((yield Call("GET", "/namespaces"))["namespaces"])

    @api
    def drop(self) -> Plan[None]:
        """Drop this namespace."""
        yield Call("DELETE", "")

    @api
    def reset(self, vendors: list[str] | None = None) -> Plan[None]:
        """Empty the namespace; with ``vendors``, only those vendors' state
        (``POST /__sim/reset``)."""
        yield Call("POST", "/reset", json={"vendors": vendors} if vendors else {})

    # -- state ----------------------------------------------------------------------------
    @api
    def state(self, vendor: str | None = None) -> Plan[dict[str, Any]]:
        """The namespace's state document, or one vendor's part of it (``GET /__sim/state``)."""
        result: dict[str, Any] = yield Call("GET", "/state" + (f"/{vendor}" if vendor else ""))
        return result

    @api
    def put_state(self, doc: dict[str, Any], vendor: str | None = None) -> Plan[dict[str, Any]]:
        """Replace the state (or one vendor's part) with ``doc`` and answer the loaded state
        (``PUT /__sim/state[/{vendor}]``); ``load_state`` in the pytest plugin."""
        result: dict[str, Any] = yield Call(
            "PUT", "/state" + (f"/{vendor}" if vendor else ""), json=doc
        )
        return result

    # -- clock, seed, settings ------------------------------------------------------------
    @api
    def clock(self) -> Plan[dict[str, Any]]:
        """The clock: ``now`` and whether it is frozen (``GET /__sim/clock``)."""
        result: dict[str, Any] = yield Call("GET", "/clock")
        return result

    @api
    def freeze(self, now: str) -> Plan[dict[str, Any]]:
        """Freeze the clock at an RFC 3339 time (``2024-06-01T12:00:00Z``)."""
        result: dict[str, Any] = yield Call("PUT", "/clock", json={"now": now})
        return result

    @api
    def unfreeze(self) -> Plan[dict[str, Any]]:
        """Release the clock: it follows real time again."""
        result: dict[str, Any] = yield Call("PUT", "/clock", json={"now": None})
        return result

    @api
    def advance(self, seconds: float) -> Plan[dict[str, Any]]:
        """Move the clock forward by ``seconds`` (``POST /__sim/clock/advance``)."""
        result: dict[str, Any] = yield Call("POST", "/clock/advance", json={"seconds": seconds})
        return result

    @api
    def seed(self, seed: int) -> Plan[None]:
        """Seed the namespace's ids and fault draws: the same seed, the same ids
        (``PUT /__sim/seed``)."""
        yield Call("PUT", "/seed", json={"seed": seed})

    @api
    def settings(self) -> Plan[dict[str, Any]]:
        """The namespace's settings (``GET /__sim/settings``)."""
        result: dict[str, Any] = yield Call("GET", "/settings")
        return result

    @api
    def update_settings(self, /, **changes: Any) -> Plan[dict[str, Any]]:
        """Change settings (``strict_contract``, ``journal_limit``, ``latency``...) and answer them
        all (``PUT /__sim/settings``)."""
        result: dict[str, Any] = yield Call("PUT", "/settings", json=changes)
        return result

    # -- journal and outbox ---------------------------------------------------------------
    @api
    def journal(
        self,
        vendor: str | None = None,
        operation: str | None = None,
        status: int | None = None,
        limit: int | None = None,
        after: int | None = None,
        before: int | None = None,
    ) -> Plan[list[dict[str, Any]]]:
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
        found = yield Call(
            "GET", "/journal", params={k: v for k, v in params.items() if v is not None}
        )
        return list(found["entries"])

    @api
    def journal_entry(self, entry_id: int) -> Plan[dict[str, Any]]:
        """One journal entry by id (``GET /__sim/journal/{id}``)."""
        result: dict[str, Any] = yield Call("GET", f"/journal/{entry_id}")
        return result

    @api
    def clear_journal(self) -> Plan[None]:
        """Empty the journal (``DELETE /__sim/journal``)."""
        yield Call("DELETE", "/journal")

    @api
    def find_requests(
        self,
        pattern: Mapping[str, Any] | None = None,
        *,
        vendor: Any = None,
        operation: Any = None,
        method: Any = None,
        path: Any = None,
        query: Any = None,
        headers: Any = None,
        body: Any = None,
    ) -> Plan[list[dict[str, Any]]]:
        """Journal entries matching a request pattern (``POST /__sim/journal/find``): the
        ``pattern`` document and the keyword fields given, each a literal or a scenario
        matcher (``{"$match": "^l-"}``); ``{"operation": None}`` is what hit no route."""
        fields = dict(vendor=vendor, operation=operation, method=method, path=path)
        fields.update(query=query, headers=headers, body=body)
        found = yield Call("POST", "/journal/find", json=_request_pattern(pattern, fields))
        return list(found["entries"])

    @api
    def count_requests(
        self,
        pattern: Mapping[str, Any] | None = None,
        *,
        vendor: Any = None,
        operation: Any = None,
        method: Any = None,
        path: Any = None,
        query: Any = None,
        headers: Any = None,
        body: Any = None,
    ) -> Plan[int]:
        """How many journal entries match a request pattern (``POST /__sim/journal/count``)."""
        fields = dict(vendor=vendor, operation=operation, method=method, path=path)
        fields.update(query=query, headers=headers, body=body)
        found = yield Call("POST", "/journal/count", json=_request_pattern(pattern, fields))
        return int(found["count"])

    @api
    def verify(
        self,
        pattern: Mapping[str, Any] | None = None,
        *,
        vendor: Any = None,
        operation: Any = None,
        method: Any = None,
        path: Any = None,
        query: Any = None,
        headers: Any = None,
        body: Any = None,
        times: int | None = None,
    ) -> Plan[list[dict[str, Any]]]:
        """Assert that ``times`` journaled requests match the pattern (``None``: at least
        one) and return them. Else ``AssertionError`` naming the matches, or the closest
        entry and where it differs, by JSON pointer into the pattern."""
        __tracebackhide__ = True
        from simulator.verify import failure, satisfied

        fields = dict(vendor=vendor, operation=operation, method=method, path=path)
        fields.update(query=query, headers=headers, body=body)
        doc = _request_pattern(pattern, fields)
        found = list((yield Call("POST", "/journal/find", json=doc))["entries"])
        if satisfied(times, len(found)):
            return found
        journal = list((yield Call("GET", "/journal"))["entries"])
        raise AssertionError(failure(doc, found, journal, times))

    @api
    def assert_no_unmatched(self) -> Plan[None]:
        """Assert that no journaled request hit no route (its ``operation`` is null), else
        ``AssertionError`` listing them. The journal holds requests of a namespace that
        exists: a control write or a request that reached a route creates it."""
        __tracebackhide__ = True
        from simulator.verify import UNMATCHED, unmatched_failure

        found = list((yield Call("POST", "/journal/find", json=UNMATCHED))["entries"])
        if found:
            raise AssertionError(unmatched_failure(found))

    @api
    def outbox(
        self, vendor: str | None = None, kind: str | None = None
    ) -> Plan[list[dict[str, Any]]]:
        """Side effects that would have left the vendor (survey invites, emails, SMS),
        oldest first; filters ``vendor`` and ``kind`` (``GET /__sim/outbox``)."""
        params = {k: v for k, v in (("vendor", vendor), ("kind", kind)) if v is not None}
        return list((yield Call("GET", "/outbox", params=params))["entries"])

    @api
    def clear_outbox(self) -> Plan[None]:
        """Empty the outbox (``DELETE /__sim/outbox``)."""
        yield Call("DELETE", "/outbox")

    # -- faults ---------------------------------------------------------------------------
    @api
    def faults(self) -> Plan[list[dict[str, Any]]]:
        """The fault rules, in the order they are consulted (``GET /__sim/faults``)."""
        return list((yield Call("GET", "/faults"))["faults"])

    @api
    def add_fault(
        self, rule: Mapping[str, Any] | None = None, /, **fields: Any
    ) -> Plan[dict[str, Any]]:
        """Add a fault rule and answer it with its ``id`` (``POST /__sim/faults``).

        The rule is a dict (as in a scenario's ``faults:``), keyword arguments, or both
        (keywords win): ``add_fault({"vendor": "botw", "status": 503}, times=1)``. Fields:
        ``vendor``, ``operation``, ``status``, ``body``, ``headers``, ``delay_ms``, ``drop``,
        ``malformed``, ``truncate``, ``dribble``, ``times``, ``every``, ``probability``...
        (docs/testing.md, ``schemas/sim/fault.json``).
        """
        doc = {**(rule or {}), **fields}
        result: dict[str, Any] = yield Call("POST", "/faults", json=doc)
        return result

    @api
    def remove_fault(self, rule_id: str) -> Plan[None]:
        """Remove one fault rule by its id (``DELETE /__sim/faults/{id}``)."""
        yield Call("DELETE", f"/faults/{rule_id}")

    @api
    def clear_faults(self) -> Plan[None]:
        """Remove every fault rule (``DELETE /__sim/faults``)."""
        yield Call("DELETE", "/faults")

    @api
    def openapi(self) -> Plan[dict[str, Any]]:
        """The OpenAPI 3.1 document of every vendor route and the control plane."""
        result: dict[str, Any] = yield Call("GET", "/openapi.json")
        return result


def _unreachable(exc: Exception) -> bool:
    """Whether a transport error means the simulator could not be reached."""
    sent = sys.modules.get("requests")  # imported by the first Client without a session
    if sent is not None and isinstance(exc, sent.ConnectionError):
        return True
    httpx = sys.modules.get("httpx")  # an httpx error only if httpx is in use
    return httpx is not None and isinstance(
        exc, (httpx.NetworkError, httpx.ConnectTimeout, httpx.RemoteProtocolError)
    )


# -- two thin transports ---------------------------------------------------------------------
class Client(_Api):
    """The control plane of one namespace, over ``requests`` (or an ``httpx.Client`` given
    as ``session``). A failing call raises ``SimulatorProblem``; an unreachable simulator,
    ``SimulatorUnavailable``."""

    def __init__(
        self,
        base_url: str,
        namespace: str | None = None,
        session: requests.Session | httpx.Client | None = None,
        timeout: float = 30.0,
        token: str | None = None,
    ) -> None:
        super().__init__(base_url, namespace, timeout, token)
        self._owns_session = session is None
        if not session:
            # imported here, not with the module: the pytest plugin imports this module in
            # every test session, most of which never make a Client (docs/serving.md)
            import requests

            session = requests.Session()
        self.session: Any = session

    def namespace_client(self, namespace: str) -> Client:
        """A client of another namespace of the same server, sharing this one's session."""
        found = Client(self.server, namespace, self.session, self.timeout, self.token)
        found._vendor_paths = self._vendor_paths
        return found

    def close(self) -> None:
        """Close the session, unless it was given."""
        if self._owns_session:
            self.session.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _bind(self, method: api[..., Any]) -> Any:
        plan = method.plan

        def run(*args: Any, **kwargs: Any) -> Any:
            __tracebackhide__ = True
            return self._run(plan(self, *args, **kwargs))

        return run

    def _run(self, plan: Plan[T]) -> T:
        __tracebackhide__ = True
        answer: Any = None
        try:
            while True:
                call = plan.send(answer)
                if call.control:
                    answer = self._call(call.method, call.path, call.json, call.params)
                else:  # not through a subclass's _call (the plugin's real-vendor mode)
                    answer = Client._call(self, call.method, call.path, call.json, call.params)
        except StopIteration as done:
            result: T = done.value
            return result

    def _call(self, method: str, path: str, json: Any = None, params: Any = None) -> Any:
        try:
            r = self.session.request(
                method,
                self._url(Call(method, path)),
                json=json,
                params=params,
                headers=self._headers(),
                timeout=self.timeout,
            )
        except Exception as exc:
            if _unreachable(exc):
                raise SimulatorUnavailable(f"crmsim is not reachable at {self.server}") from exc
            raise
        reason = str(getattr(r, "reason", None) or getattr(r, "reason_phrase", ""))
        return decode(r.status_code, reason, r.content)


class AsyncClient(_Api):
    """The same control plane, each method a coroutine, over ``httpx.AsyncClient``
    (``session``; by default one of its own, closed by ``close()`` or ``async with``)."""

    def __init__(
        self,
        base_url: str,
        namespace: str | None = None,
        session: httpx.AsyncClient | None = None,
        timeout: float = 30.0,
        token: str | None = None,
    ) -> None:
        import httpx

        super().__init__(base_url, namespace, timeout, token)
        self._owns_session = session is None
        self.session = session or httpx.AsyncClient()

    def namespace_client(self, namespace: str) -> AsyncClient:
        """A client of another namespace of the same server, sharing this one's session."""
        found = AsyncClient(self.server, namespace, self.session, self.timeout, self.token)
        found._vendor_paths = self._vendor_paths
        return found

    async def close(self) -> None:
        """Close the session, unless it was given."""
        if self._owns_session:
            await self.session.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    def _bind(self, method: api[..., Any]) -> Any:
        plan = method.plan

        async def run(*args: Any, **kwargs: Any) -> Any:
            __tracebackhide__ = True
            return await self._run(plan(self, *args, **kwargs))

        return run

    async def _run(self, plan: Plan[T]) -> T:
        __tracebackhide__ = True
        answer: Any = None
        try:
            while True:
                answer = await self._call(plan.send(answer))
        except StopIteration as done:
            result: T = done.value
            return result

    async def _call(self, call: Call) -> Any:
        try:
            r = await self.session.request(
                call.method,
                self._url(call),
                json=call.json,
                params=call.params,
                headers=self._headers(),
                timeout=self.timeout,
            )
        except Exception as exc:
            if _unreachable(exc):
                raise SimulatorUnavailable(f"crmsim is not reachable at {self.server}") from exc
            raise
        return decode(r.status_code, r.reason_phrase, r.content)
