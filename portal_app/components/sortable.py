"""Sortable lists whose filters, sort and page live in the address.

Every list a person works through follows one pattern: sorting and paging run in the service's query, state holds
one page of rows, and after each change the address bar is rewritten (``history.replaceState``: no navigation) with
the list's filters, sort and page, so a reload, Back from a row and a shared link show the same list. Reading an
address back ignores a sort it does not know and a page that is not a number (never an error).

- ``list_address`` / ``read_sort`` / ``read_page`` / ``show_address``: the address format, for any list state.
- ``SortedListMixin``: the ``sort`` var, the ``sort_by`` handler and the address of a state that pages with
  ``page``/``pages`` and reads its rows in ``_fetch(principal)``.
- ``sort_header``: a column header whose button sorts and whose ``th`` says the order (``aria-sort``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping
from typing import Any, ClassVar
from urllib.parse import urlencode

import reflex as rx

from portal_app.auth.principal import Principal
from portal_app.ui.session import page_event

MAX_PAGE = 10_000
# The header's button looks like the header text (it inherits the cell's font) and is underlined dotted, so it
# reads as a header that can be used; the browser's own focus ring shows where the keyboard is.
SORT_BUTTON_STYLE = {"font": "inherit", "font_weight": "bold", "color": "inherit", "background": "none",
                     "border": "none", "padding": "0", "cursor": "pointer", "text_decoration": "underline dotted",
                     "text_align": "inherit"}


def first(raw: Mapping[str, Any], key: str, limit: int = 40) -> str:
    """The first value of ``key`` in a parsed query (``parse_qs``) or a form, trimmed and cut to ``limit``."""
    value = raw.get(key, "")
    value = value[0] if isinstance(value, list | tuple) and value else value
    return str(value or "").strip()[:limit]


def read_sort(raw: Mapping[str, Any], allowed: Collection[str], default: str) -> str:
    """The address's ``sort`` if the list offers it, else ``default``: an unknown key is ignored."""
    sort = first(raw, "sort")
    return sort if sort in allowed else default


def read_page(raw: Mapping[str, Any]) -> int:
    """The address's ``page`` (1 when missing or not a number; at most ``MAX_PAGE``)."""
    page = first(raw, "page", 6)
    return min(int(page), MAX_PAGE) if page.isdigit() and int(page) >= 1 else 1


def next_sort(current: str, key: str) -> str:
    """A header was chosen: its order ascending, or descending when it already was ascending."""
    return f"-{key}" if current == key else key


def list_address(path: str, params: Mapping[str, str], *, sort: str = "", default_sort: str = "",
                 page: int = 1) -> str:
    """``path`` with the filters that are set, the sort (unless it is the default) and the page (after the first)."""
    extra = {"sort": sort if sort != default_sort else "", "page": str(page) if page > 1 else ""}
    query = urlencode({**{k: v for k, v in params.items() if v}, **{k: v for k, v in extra.items() if v}})
    return f"{path}?{query}" if query else path


def show_address(address: str) -> Any:
    """Write ``address`` into the address bar without navigating (the router's own history state is kept)."""
    return rx.call_script(f"window.history.replaceState(window.history.state, '', {json.dumps(address)})")


class SortedListMixin(rx.State, mixin=True):
    """A list with sortable headers and its state in the address. The concrete state sets ``SORTS`` (the keys its
    headers offer; ``-key`` is the reverse) and ``DEFAULT_SORT`` ("" when the service's own order is the default),
    implements ``_list_path()`` and ``_list_params()`` (the filters as the address shows them), and has ``page``,
    ``pages`` and ``_fetch(principal)`` (its own or a base's, such as ``work_queue.PagedQueueBase``)."""

    SORTS: ClassVar[tuple[str, ...]] = ()
    DEFAULT_SORT: ClassVar[str] = ""

    sort: str = ""

    def _list_path(self) -> str:
        raise NotImplementedError

    def _list_params(self) -> dict[str, str]:
        return {}

    def _sort_choices(self) -> set[str]:
        return {*self.SORTS, *(f"-{k}" for k in self.SORTS)}

    def _read_address(self, raw: Mapping[str, Any]) -> None:
        """Sort and page from a parsed address (``parse_qs``); what the list does not offer is ignored."""
        self.sort = read_sort(raw, self._sort_choices(), self.DEFAULT_SORT)
        self.page = read_page(raw)

    def address(self) -> str:
        """The list's address for the current filters, sort and page (what the address bar shows)."""
        return list_address(self._list_path(), self._list_params(), sort=self.sort, default_sort=self.DEFAULT_SORT,
                            page=int(self.page))

    def _show_address(self) -> Any:
        return show_address(self.address())

    def _sort_arg(self) -> str | None:
        """The service's ``sort`` argument: None for the service's own default order."""
        return self.sort or None

    def _moved(self) -> Any:
        """After a move through the list (a work queue's hook): the address shows where the list now is."""
        return self._show_address()

    async def _fetch_kept_page(self, principal: Principal) -> None:
        """Read the page the address named; past the end of a shorter list, its last page instead."""
        await self._fetch(principal)
        if self.page > self.pages:
            self.page = self.pages
            await self._fetch(principal)

    @page_event()
    async def sort_by(self, principal: Principal, key: str) -> Any:
        if key not in self.SORTS:
            return None
        self.sort, self.page = next_sort(self.sort, key), 1
        await self._fetch(principal)
        return self._show_address()


def sort_header(state: type[SortedListMixin], label: str, key: str | None,
                cell: Callable[..., rx.Component] = rx.el.th) -> rx.Component:
    """A column header (``cell``: ``rx.el.th`` or ``rx.table.column_header_cell``); with a ``key``, a button that
    sorts by it and the header's ``aria-sort`` (ascending, descending or none) for screen readers."""
    if key is None:
        return cell(label, scope="col")
    order = rx.cond(state.sort == key, "ascending", rx.cond(state.sort == f"-{key}", "descending", "none"))
    arrow = rx.cond(state.sort == key, " ▲", rx.cond(state.sort == f"-{key}", " ▼", ""))
    return cell(
        rx.el.button(label, rx.el.span(arrow, aria_hidden="true"), type="button", on_click=state.sort_by(key),
                     class_name="sort-button", style=SORT_BUTTON_STYLE, aria_label=f"Sort by {label.lower()}"),
        scope="col", aria_sort=order,
    )


def sort_headers(state: type[SortedListMixin], headers: list[tuple[str, str | None]],
                 cell: Callable[..., rx.Component] = rx.el.th) -> list[rx.Component]:
    """A row's worth of ``sort_header`` for ``(label, key or None)`` pairs."""
    return [sort_header(state, label, key, cell) for label, key in headers]
