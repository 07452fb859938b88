"""A tab's page state belongs to one sign-in: when the session changes or ends, the whole state is wiped first.

Reflex keys page state by the tab's client token (kept in the tab's sessionStorage), not by who is signed in. After
sign-out the same tab reconnects with the same token, and the first thing Reflex sends it, the hydrate, is the whole
state tree: without this middleware, the previous user's name and rows. ``PageSessionBinding`` runs before every
event, after Reflex has put the connection's current headers into the state. It compares the session of the
connection's cookie (if live) with the session the tab's state was bound to (``SessionState._tab_session``); when
they differ it resets every state of the tab to its defaults, including the substates not loaded for this event,
and binds the tab to the current session (or to nobody). Then the event runs: a hydrate sends the clean tree, any
other event works on it as the current session.

Sign-out, another sign-in in the same tab, expiry, a revoked session (password change, deactivation) all look the
same here: the cookie's live session is not the bound one. Liveness uses the principal lookup of
``SessionState._principal`` (remembered for a moment per process), which the event's own ``_authorize`` then reuses.

The binding is also published for HTTP requests (``auth/tab_sessions.py``): the upload gate refuses an upload whose
own cookie is not the tab's session.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reflex.istate.manager.redis import StateManagerRedis
from reflex.istate.manager.token import BaseStateToken
from reflex.middleware import Middleware
from reflex.state import BaseState, StateUpdate
from reflex_base.event import Event
from reflex_base.event.context import EventContext

from portal_app.auth import tab_sessions
from portal_app.ui.session import SessionState, token_from_cookie_header

if TYPE_CHECKING:
    from reflex.app import App

_HYDRATE_HANDLERS = frozenset({"hydrate", "hydrate_and_load"})


def _loaded_session_state(root: BaseState) -> SessionState | None:
    """The tab's SessionState if this event loaded it (it is the parent of every page state), else None.

    An event that did not load it (Reflex's own page-load bookkeeping) touches and sends none of a page's data.
    """
    try:
        state = root.get_substate(SessionState.get_full_name().split("."))
    except ValueError:
        return None
    return state if isinstance(state, SessionState) else None


def _is_hydrate(root: BaseState, event: Event) -> bool:
    owner, _, handler = event.name.rpartition(".")
    return owner == type(root).get_full_name() and handler in _HYDRATE_HANDLERS


async def reset_tab_state(root: BaseState, *, keep_hydrated: bool) -> None:
    """Reset every state of the tab to its defaults, the ones this event did not load too.

    In memory the tree is always whole. Redis loads only the states an event needs, so the rest are loaded into
    this (locked) tree first; the reset marks them all changed, and Reflex writes them back when the event ends.
    """
    ctx = EventContext.get()
    if isinstance(ctx.state_manager, StateManagerRedis):
        await ctx.state_manager.get_state(
            BaseStateToken(ident=ctx.token, cls=type(root)), top_level=True, for_state_instance=root
        )
    hydrated = getattr(root, "is_hydrated", False)
    root.reset()
    if keep_hydrated and hydrated:
        root.is_hydrated = True  # the page is still the one loaded; only its data goes


async def current_session(state: SessionState) -> int | None:
    """The id of the live session of the connection's cookie, or None."""
    if not token_from_cookie_header(state.router.headers.cookie):
        return None
    principal = await state._principal()
    return principal.session_id if principal is not None else None


class PageSessionBinding(Middleware):
    """Reflex middleware: see the module's docstring."""

    async def preprocess(self, app: App, state: BaseState, event: Event) -> StateUpdate | None:
        session_state = _loaded_session_state(state)
        if session_state is None:
            return None
        current = await current_session(session_state)
        hydrate = _is_hydrate(state, event)
        token = EventContext.get().token
        if session_state._tab_session == current:
            if hydrate and current is not None:
                await tab_sessions.publish(token, current)  # every page load renews it
            return None
        await reset_tab_state(state, keep_hydrated=not hydrate)
        session_state._tab_session = current
        await tab_sessions.publish(token, current)
        return None
