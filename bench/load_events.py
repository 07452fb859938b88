"""Load on the shipments list through the real app's websocket events, as browsers send them.

Every simulated user is its own signed-in session and Reflex client token (see event_client.py), connected to the
running app on loopback. The figures:
- one user sending list events back to back (filter, search, next page), p50/p95;
- N users each sending one event per second for a bounded time: p50/p95 and errors;
- capacity: users sending back to back for a bounded time, events per second completed;
- server memory per connected session: resident memory of the app's processes before and after opening sessions
  that have loaded the list page.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psutil

from bench.event_client import EventClient, EventError, sign_in, state_delta

LIST_PATH = "/portal/shipments"


def list_substate() -> str:
    from portal_app.portal.shipments import PortalShipmentsState

    return PortalShipmentsState.get_full_name()


@dataclass(frozen=True)
class ListEvent:
    """One list event and the filters and page it asks the database for (to time the same query as raw SQL)."""

    handler: str
    payload: dict
    params: dict
    page: int = 1


BOARD_PATH = "/tower/shipments"


def board_substate() -> str:
    from portal_app.tower.shipments import TowerShipmentsState

    return TowerShipmentsState.get_full_name()


def board_event_mix(filters: list[dict[str, str]]) -> list[ListEvent]:
    """The tower board's filter events: the board form with each of ``filters`` (bench/tower.py's mix)."""
    return [ListEvent("apply_filters", {"form": dict(f)}, dict(f)) for f in filters]


def event_mix(terms: list[str]) -> list[ListEvent]:
    """What a list page sends: first page, a status filter, a mode filter and its next page, searches by reference.

    Run in order, each event's answer is the page its ``params`` and ``page`` describe.
    """
    mix = [
        ListEvent("apply_filters", {"form": {}}, {}),
        ListEvent("apply_filters", {"form": {"status": "in_transit"}}, {"status": "in_transit"}),
        ListEvent("apply_filters", {"form": {"mode": "air"}}, {"mode": "air"}),
        ListEvent("go_to_page", {"delta": 1}, {"mode": "air"}, page=2),
    ]
    mix += [ListEvent("apply_filters", {"form": {"q": t}}, {"q": t}) for t in terms[:10]]
    return mix


@dataclass
class LoadResult:
    timings: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    elapsed: float = 0.0

    @property
    def throughput(self) -> float:
        return len(self.timings) / self.elapsed if self.elapsed else 0.0


async def _open_sessions(url: str, cookies: list[str], path: str = LIST_PATH) -> list[EventClient]:
    clients = [EventClient(url, cookie, path) for cookie in cookies]
    for start in range(0, len(clients), 10):  # connect in small waves, as a morning's logins arrive
        await asyncio.gather(*(c.connect() for c in clients[start:start + 10]))
    return clients


def wrote_address(answer: dict) -> bool:
    """A list event's answer is complete once it wrote the list's address (its handler's last step)."""
    return any(e.get("name") == "_call_script" and "history.replaceState" in str(e.get("payload"))
               for e in answer.get("events") or [])


async def _send_checked(client: EventClient, substate: str, event: ListEvent, result: LoadResult) -> None:
    try:
        seconds, update = await client.send(substate, event.handler, event.payload, wrote_address)
    except EventError as exc:
        result.errors.append(str(exc))
        return
    delta = state_delta(update, substate)
    if "rows_rx_state_" not in delta and "total_rx_state_" not in delta:
        result.errors.append(f"{event.handler}: the answer carried no list ({update.get('events')})")
    elif delta.get("error_rx_state_"):
        result.errors.append(f"{event.handler}: {delta['error_rx_state_']}")
    else:
        result.timings.append(seconds)


async def single_user(url: str, cookie: str, terms: list[str], events: int) -> LoadResult:
    return await single_user_on(url, cookie, event_mix(terms), events, list_substate(), LIST_PATH)


async def single_user_on(url: str, cookie: str, mix: list[ListEvent], events: int, substate: str,
                         path: str) -> LoadResult:
    """One user sending ``mix`` back to back on the list page at ``path`` (its state ``substate``)."""
    (client,) = await _open_sessions(url, [cookie], path)
    result = LoadResult()
    for event in mix:  # warm up once through the whole mix
        await client.send(substate, event.handler, event.payload, wrote_address)
    start = time.perf_counter()
    for i in range(events):
        await _send_checked(client, substate, mix[i % len(mix)], result)
    result.elapsed = time.perf_counter() - start
    await client.close()
    return result


NO_QUERY_EVENT = ListEvent("apply_view", {"view_id": "0"}, {})
MISSING_VIEW = "no longer exists"


async def no_query_user(url: str, cookie: str, events: int) -> LoadResult:
    """One user sending, back to back, a list-page event that reads nothing from the database: choosing a saved
    view that is not there (the session check, answered from the process's memory, then a message). Its round trip
    is what every list event costs before any query runs."""
    (client,) = await _open_sessions(url, [cookie])
    substate = list_substate()
    result = LoadResult()
    start = time.perf_counter()
    for i in range(events + 10):  # the first ten warm up
        try:
            seconds, update = await client.send(substate, NO_QUERY_EVENT.handler, NO_QUERY_EVENT.payload)
        except EventError as exc:
            result.errors.append(str(exc))
            continue
        message = state_delta(update, substate).get("error_rx_state_", "")
        if i == 0 and MISSING_VIEW not in message:
            result.errors.append(f"apply_view: unexpected answer {message!r}")
        if i >= 10:
            result.timings.append(seconds)
    result.elapsed = time.perf_counter() - start
    await client.close()
    return result


async def paced_users(url: str, cookies: list[str], terms: list[str], seconds: float, rate: float = 1.0) -> LoadResult:
    """Each user sends ``rate`` events per second for ``seconds``, starting at a random offset within the first one."""
    substate = list_substate()
    clients = await _open_sessions(url, cookies)
    mix, result = event_mix(terms), LoadResult()

    async def user(client: EventClient, seed: int) -> None:
        rnd = random.Random(seed)
        interval = 1.0 / rate
        next_at = time.perf_counter() + rnd.random() * interval
        end = time.perf_counter() + seconds
        while next_at < end:
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
            await _send_checked(client, substate, rnd.choice(mix), result)
            next_at += interval

    start = time.perf_counter()
    await asyncio.gather(*(user(c, i) for i, c in enumerate(clients)))
    result.elapsed = time.perf_counter() - start
    await asyncio.gather(*(c.close() for c in clients))
    return result


async def saturating_users(url: str, cookies: list[str], terms: list[str], seconds: float) -> LoadResult:
    """Every user sends its next event as soon as the last one is answered: events completed per second."""
    substate = list_substate()
    clients = await _open_sessions(url, cookies)
    mix, result = event_mix(terms), LoadResult()

    async def user(client: EventClient, offset: int) -> None:
        i, end = offset, time.perf_counter() + seconds
        while time.perf_counter() < end:
            await _send_checked(client, substate, mix[i % len(mix)], result)
            i += 1

    start = time.perf_counter()
    await asyncio.gather(*(user(c, i) for i, c in enumerate(clients)))
    result.elapsed = time.perf_counter() - start
    await asyncio.gather(*(c.close() for c in clients))
    return result


def app_private_bytes(leader_pid: int) -> int:
    """Resident anonymous memory (heap and stacks) of `make run` and every process under it (the server and its
    workers). File-backed pages are left out: SQLite maps the database file into each connection's address space,
    so the plain resident size moves by megabytes whenever a connection opens, reads or closes."""
    leader = psutil.Process(leader_pid)
    total = 0
    for proc in [leader, *leader.children(recursive=True)]:
        try:
            info = proc.memory_info()
        except psutil.Error:
            continue
        total += info.rss - info.shared
    return total


async def memory_per_session(url: str, cookies: list[str], rss: Callable[[], int], warm: int = 50) -> tuple[float, int]:
    """Bytes of server memory per connected session that has loaded the list page; and the sessions measured.

    The first ``warm`` sessions stay open while the rest connect, so one-off costs (imports, caches, the allocator
    growing its pools) are paid before the baseline and the figure is the marginal cost of one more session.
    """
    warm_clients = await _open_sessions(url, cookies[:warm])
    await asyncio.sleep(1)
    before = rss()
    clients = await _open_sessions(url, cookies[warm:])
    await asyncio.sleep(1)
    after = rss()
    await asyncio.gather(*(c.close() for c in warm_clients + clients))
    return (after - before) / len(clients), len(clients)


def cookies_for(url: str, email: str, password: str, count: int) -> list[str]:
    """``count`` separate signed-in sessions of one user (each browser signs in on its own)."""
    return [sign_in(url, email, password) for _ in range(count)]
