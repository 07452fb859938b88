"""A headless browser tab for load tests: speaks the app's websocket event protocol (Socket.IO on /_event).

One `EventClient` is one Reflex session: its own client token, the session cookie of a signed-in user on the
websocket handshake (as a browser sends it), the same hydrate-and-load boot event the page sends on connect, and
every chained backend event the server asks for sent back, as the page's JavaScript does. `send` emits one event
and returns when the state update it caused has arrived.

`state_delta(update, substate)` reads one state's changed vars out of an update.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import socketio

ROOT_STATE = "reflex___state____state"
HYDRATE_AND_LOAD = f"{ROOT_STATE}.hydrate_and_load"
HYDRATED_VAR = "is_hydrated_rx_state_"
SESSION_COOKIE = "portal_session"
NAMESPACE = "/_event"  # both the Engine.IO path and the Socket.IO namespace


def state_delta(update: dict[str, Any], substate: str) -> dict[str, Any]:
    """The vars of ``substate`` that an update changed, by their wire names (``total_rx_state_``, ...)."""
    return (update.get("delta") or {}).get(substate) or {}


class EventError(RuntimeError):
    """The server did not answer an event in time, or its answer did not carry the expected state."""


def sign_in(base_url: str, email: str, password: str) -> str:
    """The session cookie value for ``email``, through the same login route the sign-in page posts to."""
    resp = httpx.post(f"{base_url}/api/auth/login", json={"email": email, "password": password}, timeout=10)
    resp.raise_for_status()
    cookie = resp.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise EventError("the login route set no session cookie")
    return cookie


@dataclass
class EventClient:
    base_url: str
    cookie: str
    path: str
    timeout: float = 10.0
    token: str = field(default_factory=lambda: str(uuid.uuid4()))

    def __post_init__(self) -> None:
        self._sio = socketio.AsyncClient(reconnection=False)
        self._updates: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._sio.on("event", self._on_update, namespace=NAMESPACE)

    def _router_data(self) -> dict[str, Any]:
        return {"pathname": self.path, "asPath": self.path, "query": {}}

    async def _on_update(self, update: dict[str, Any]) -> None:
        # Chained backend events (on_load handlers, follow-ups) go back to the server, as the page would send them.
        for event in update.get("events") or []:
            name = event.get("name", "")
            if "." in name and not name.startswith("_"):
                await self._emit(name, event.get("payload") or {})
        await self._updates.put(update)

    async def _emit(self, name: str, payload: dict[str, Any]) -> None:
        await self._sio.emit(
            "event", {"name": name, "payload": payload, "router_data": self._router_data()}, namespace=NAMESPACE
        )

    async def connect(self) -> None:
        """Open the socket with the page's boot event and wait until the page has loaded."""
        boot = {"name": HYDRATE_AND_LOAD, "payload": {}, "router_data": self._router_data()}
        await self._sio.connect(
            f"{self.base_url}?token={self.token}",
            headers={"Cookie": f"{SESSION_COOKIE}={self.cookie}"},
            transports=["websocket"],
            socketio_path=NAMESPACE,
            namespaces=[NAMESPACE],
            auth={"event": boot},
            wait_timeout=self.timeout,
        )
        await self._wait_for_hydrated()

    async def _next_update(self, deadline: float, waiting_for: str) -> dict[str, Any]:
        try:
            return await asyncio.wait_for(self._updates.get(), max(0.0, deadline - time.monotonic()))
        except TimeoutError as exc:
            raise EventError(f"no update for {waiting_for} within {self.timeout} s") from exc

    async def _wait_for_hydrated(self) -> None:
        """The page's load is over when the root state reports ``is_hydrated`` true (after the on_load events)."""
        deadline = time.monotonic() + self.timeout
        while True:
            root = ((await self._next_update(deadline, "hydration")).get("delta") or {}).get(ROOT_STATE) or {}
            if root.get(HYDRATED_VAR) is True:
                return

    async def send(self, substate: str, handler: str, payload: dict[str, Any],
                   complete: Callable[[dict[str, Any]], bool] | None = None) -> tuple[float, dict[str, Any]]:
        """Emit ``substate.handler(payload)``; the seconds until its answer arrived, and that answer.

        The server handles one client's events in order and answers each with one update, or, when the handler
        changes the state and then returns an event (a list writing its address), with the state's update and then
        the event's. ``complete(answer so far)`` says when the whole answer is in (by default: the first update);
        the answer is the updates up to then merged (their deltas and events), the time until the last arrived.
        """
        while not self._updates.empty():  # nothing stale may be taken for this event's answer
            self._updates.get_nowait()
        start = time.perf_counter()
        await self._emit(f"{substate}.{handler}", payload)
        deadline = time.monotonic() + self.timeout
        merged: dict[str, Any] = {"delta": {}, "events": []}
        while True:
            update = await self._next_update(deadline, handler)
            for state, changed in (update.get("delta") or {}).items():
                merged["delta"].setdefault(state, {}).update(changed)
            merged["events"] += update.get("events") or []
            if complete is None or complete(merged):
                return time.perf_counter() - start, merged

    async def close(self) -> None:
        await self._sio.disconnect()
