"""Page states keep typed rows (frozen dataclasses of display strings), so a column whose field is misspelt where
the page renders it fails when the page is built, not as a blank cell in the browser."""

from __future__ import annotations

import typing

import pytest
import reflex as rx
from reflex_base.vars.base import VarAttributeError

import portal_app.portal_app  # noqa: F401  (registers every page and its state)
from portal_app.components.layout import PAGES
from portal_app.tower.kpis import ExceptionBar, TowerKpisState, _bar
from portal_app.tower.shipments import TowerShipmentsState

# Editable form lines, not rows the page shows: each entry is a form's own input state.
FORM_STATE = {("QuoteFormState", "lines")}


def _page_states() -> set[type[rx.State]]:
    def walk(cls: type[rx.State]) -> typing.Iterator[type[rx.State]]:
        for sub in cls.__subclasses__():
            yield sub
            yield from walk(sub)

    return {cls for cls in walk(rx.State) if cls.__module__.startswith("portal_app.")}


def _holds_dicts(var_type: object) -> bool:
    """A list of dicts, or a dict of lists of dicts: rows kept as string mappings."""
    origin, args = typing.get_origin(var_type), typing.get_args(var_type)
    if origin is list:
        return any(a is dict or typing.get_origin(a) is dict for a in args)
    return origin is dict and any(_holds_dicts(a) for a in args)


def test_every_page_builds_against_its_rows_fields():
    """Building a page renders each ``rx.foreach`` row against its dataclass: a misspelt field raises here."""
    failed = {}
    for page, route, _, _ in PAGES:
        try:
            page()
        except Exception as exc:  # noqa: BLE001 (collect every page's failure, then report them together)
            failed[route] = f"{type(exc).__name__}: {exc}"
    assert not failed, failed


def test_no_page_state_keeps_rows_as_string_dicts():
    found = sorted(f"{cls.__name__}.{name}: {var._var_type}" for cls in _page_states()
                   for name, var in cls.base_vars.items()
                   if _holds_dicts(var._var_type) and (cls.__name__, name) not in FORM_STATE)
    assert not found, found


def test_a_misspelt_field_fails_when_the_page_is_built():
    with pytest.raises(VarAttributeError):
        rx.foreach(TowerShipmentsState.rows, lambda r: rx.text(r.ownr))  # the board row has ``owner``
    with pytest.raises(VarAttributeError):
        rx.foreach(TowerKpisState.tables.lanes, lambda r: rx.text(r["medan_hours"]))
    with pytest.raises(VarAttributeError):
        rx.text(TowerShipmentsState.rows[0].refrence)
    with pytest.raises(AttributeError):
        _bar(ExceptionBar, "opend")
