"""Small shared building blocks with accessible defaults (contrast-checked colours, labels, focus)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx

from portal_app.ui.session import SessionState

# Text colours are CSS variables with a light and a dark value (assets/portal.css): AA contrast on the page and on
# panels in both themes. Light: link #0b5cad 6.7:1, muted #4a5565 7.4:1, danger #b42318 6.5:1 on white; dark:
# #70b8ff, #b0b4ba and #ff9592, each above 7:1 on #18191b.
ACCENT = "var(--portal-link)"
MUTED_TEXT = "var(--portal-muted)"
DANGER = "var(--portal-danger)"
SURFACE = "var(--portal-surface)"  # behind panels and fields
# Fills behind white text (buttons, chart bars): the same in both themes. White on #0b5cad: 6.67:1.
ACCENT_FILL = "#0b5cad"
ACCENT_DARK = "#084685"
DANGER_FILL = "#b42318"
# Text in the installation's branding colour, which is chosen against white (services/config/branding.py); on a
# dark page it is the theme's link colour instead (portal.css sets --portal-brand-text only in the dark theme).
BRAND_TEXT = "var(--portal-brand-text, " + SessionState.brand_accent + ")"

LABEL_STYLE = {"display": "block", "font_weight": "600", "margin_bottom": "4px"}
# A plain <select>: the browser's own picker (keyboard, screen readers, phones) and no script to download.
NATIVE_SELECT_STYLE = {"width": "100%", "padding": "6px 8px", "border": "1px solid var(--portal-field-border)",
                       "border_radius": "6px", "background": SURFACE, "color": "inherit", "min_height": "32px"}

BUTTON_STYLE = {
    "background_color": ACCENT_FILL,
    "color": "white",
    "_hover": {"background_color": ACCENT_DARK},
}


def primary_button(text: str, **props: Any) -> rx.Component:
    return rx.button(text, style=BUTTON_STYLE, cursor="pointer", **props)


def secondary_button(text: str, **props: Any) -> rx.Component:
    return rx.button(text, variant="outline", color=ACCENT, cursor="pointer", **props)


def responsive_grid(*children: rx.Component, narrow: int = 1, wide: int = 2, middle: int | None = None,
                    **props: Any) -> rx.Component:
    """A grid of ``narrow`` columns on phones and ``wide`` from 1024 px (``middle`` from 768 px, if given),
    laid out by portal.css through CSS variables.

    Radix's breakpoint props (``rx.breakpoints``) are not used: their utility rules are trimmed from the shipped
    stylesheet (portal_app/stylesheet_trim.py).
    """
    columns = {"--cols-narrow": str(narrow), "--cols-wide": str(wide)}
    if middle is not None:
        columns["--cols-middle"] = str(middle)
    props.setdefault("spacing", "4")
    props.setdefault("width", "100%")
    return rx.grid(*children, class_name="responsive-grid", style=columns, **props)


def pager(state: type[rx.State]) -> rx.Component:
    """Previous / Page n of m / Next for a state with ``page``, ``pages`` and a ``go_to_page(delta)`` handler."""
    return rx.hstack(
        secondary_button("Previous page", on_click=state.go_to_page(-1), disabled=state.page <= 1),
        rx.text("Page ", state.page, " of ", state.pages),
        secondary_button("Next page", on_click=state.go_to_page(1), disabled=state.page >= state.pages),
        align="center",
    )


def labelled_input(label: str, name: str, **props: Any) -> rx.Component:
    """A visible label tied to its input by id, so screen readers and tests find it by its name.

    The input is the browser's own element styled like the theme's text field (portal.css ``.text-input``;
    ``size="3"`` for the larger one): a themed field is a React component with its own computed styles, and a
    filter form holds a dozen of them. ``props`` are the input's attributes (``type``, ``default_value``...).
    """
    input_id = props.pop("id", f"field-{name}")
    size_class = " text-input-large" if props.pop("size", None) == "3" else ""
    return rx.el.div(
        rx.el.label(label, html_for=input_id, style=LABEL_STYLE),
        rx.el.input(id=input_id, name=name, class_name="text-input" + size_class, **props),
        style={"width": "100%"},
    )


def labelled_checkbox(label: str, name: str, *, checked: rx.Var | bool, input_id: str) -> rx.Component:
    """The browser's own checkbox with its label beside it, for forms that submit (filters).

    The themed checkbox measures itself when it mounts, which forces the whole page's layout in the middle of
    rendering; this one costs nothing until the browser paints. Checked, it submits ``on``.
    """
    return rx.el.label(
        rx.el.input(type="checkbox", name=name, id=input_id, default_checked=checked, class_name="native-checkbox"),
        " " + label,
        html_for=input_id,
        style={"display": "flex", "gap": "6px", "align_items": "center", "font_weight": "600"},
    )


def error_callout(message: rx.Var | str, **props: Any) -> rx.Component:
    return rx.callout(message, icon="triangle_alert", color_scheme="red", role="alert", width="100%", **props)


def info_callout(message: rx.Var | str, **props: Any) -> rx.Component:
    return rx.callout(message, icon="info", role="status", width="100%", **props)


def stat_card(label: str, value: rx.Var | int | str, href: str | None, hint: str = "") -> rx.Component:
    """A headline figure that links to the list behind it (the figure is that list's total); ``href`` None for a
    figure that has no list of its own."""
    card = rx.card(
        rx.text(label, size="2", color=MUTED_TEXT, weight="medium"),
        rx.text(value, size="8", weight="bold", as_="p"),
        rx.cond(hint != "", rx.text(hint, size="1", color=MUTED_TEXT), rx.fragment()),
        width="100%",
    )
    if href is None:
        return card
    return rx.link(card, href=href, underline="none", color="inherit", aria_label=f"{label}: open the list",
                   width="100%")


STATUS_TONES = {"booked": "gray", "confirmed": "blue", "in transit": "indigo", "arrived": "teal",
               "delivered": "green", "closed": "gray", "cancelled": "red"}


def tone_badge(text: rx.Var | str, tone: rx.Var | str) -> rx.Component:
    """A small coloured label as a plain ``<span>`` (portal.css ``.tone-badge``, the theme's soft high-contrast
    colours): long tables render one element per badge instead of a themed component with its own styles."""
    return rx.el.span(text, class_name="tone-badge", data_tone=tone)


def status_badge(status: rx.Var) -> rx.Component:
    return tone_badge(status, rx.match(status, *STATUS_TONES.items(), "gray"))


def native_post_form(*children: rx.Component, action: str, form_id: str, **props: Any) -> rx.Component:
    """A form that really posts to an HTTP route (sign-in, sign-out), so the server's response sets cookies.

    Reflex forms always cancel the browser's submit; ``form.submit()`` sends it natively without re-entering
    that handler.
    """
    return rx.el.form(
        *children,
        id=form_id,
        action=action,
        method="post",
        on_submit=rx.call_script(f"document.getElementById('{form_id}').submit()"),
        **props,
    )


def table_caption(text: str) -> rx.Component:
    """Names a table for assistive technology (and tests) without repeating the visible heading."""
    return rx.el.caption(text, class_name="sr-only")


FACTS_STYLE = {"display": "grid", "grid_template_columns": "minmax(8rem, max-content) 1fr", "gap": "8px 16px",
               "margin": "0"}


def fact_list(pairs: rx.Var | list[tuple[str, rx.Var | str]], *, strong: bool = False) -> rx.Component:
    """Label and value pairs as a description list (``<dl>``): from a Var of ``[label, value]`` lists, or from
    ``(label, value)`` tuples. A plain element, so no picker or list script is downloaded for it."""
    def item(label: rx.Var | str, value: rx.Var | str) -> list[rx.Component]:
        return [rx.el.dt(label, style={"color": MUTED_TEXT}),
                rx.el.dd(value, style={"margin": "0", "font_weight": "500" if strong else "400"})]

    if isinstance(pairs, rx.Var):
        children = [rx.foreach(pairs, lambda p: rx.fragment(*item(p[0], p[1])))]
    else:
        children = [c for label, value in pairs for c in item(label, value)]
    return rx.el.dl(*children, style=FACTS_STYLE)


def data_table(caption: str, headers: list[str] | tuple[str, ...], rows: rx.Var,
               row: Callable[[rx.Var], rx.Component], *, header: Callable[[str], rx.Component] | None = None,
               **props: Any) -> rx.Component:
    """A small table of ``rows`` (one ``row(item)`` each) under column headers, named ``caption`` for assistive
    technology. On a narrow screen its rows read as cards, like ``plain_table``'s (portal.css ``.card-rows``).
    ``header(name)`` makes a column's header cell when it is more than its name (a sort button)."""
    props.setdefault("size", "1")
    props.setdefault("width", "100%")
    props["class_name"] = " ".join(filter(None, ["card-rows", props.get("class_name")]))
    names = list(headers)
    return rx.table.root(
        table_caption(caption),
        rx.table.header(rx.table.row(*[header(h) if header else rx.table.column_header_cell(h, scope="col")
                                       for h in headers])),
        rx.table.body(rx.foreach(rows, lambda item: labelled_cells(row(item), names))),
        **props,
    )


def plain_table(caption: str, headers: list[str | rx.Component] | tuple[str, ...], rows: rx.Var,
                row: Callable[[rx.Var], rx.Component], labels: list[str] | None = None) -> rx.Component:
    """A long table as plain elements (portal.css ``.plain-table``), for lists of a page of rows or more.

    The themed table renders a React component per cell, each computing its own styles; on a phone's CPU a page of
    25 shipments took several hundred milliseconds to show. ``row(item)`` returns ``table_row(...)``.

    On a narrow screen each row reads as a card (portal.css): its header cell as the title, then every cell beside
    its column's name, from the cell's ``data-label`` (``labelled_cells``). ``labels`` names the columns when a
    header is not plain text (a sort button); by default the headers are the names.
    """
    names = labels if labels is not None else [h for h in headers if isinstance(h, str)]
    if len(names) != len(headers):
        raise ValueError("plain_table needs a text label for every column")
    return rx.el.div(
        rx.el.table(
            table_caption(caption),
            rx.el.thead(rx.el.tr(*[rx.el.th(h, scope="col") if isinstance(h, str) else h for h in headers])),
            rx.el.tbody(rx.foreach(rows, lambda item: labelled_cells(row(item), names))),
        ),
        class_name="plain-table",
    )


def labelled_cells(row: rx.Component, names: list[str]) -> rx.Component:
    """The table row with each cell's column name in ``data-label``: the labels of the card a row becomes on a
    narrow screen (portal.css). A row's header cell is the card's title and shows none."""
    for cell, name in zip(row.children, names, strict=False):
        cell.custom_attrs["data-label"] = name
    return row


def table_row(header: rx.Component | rx.Var | str, *cells: rx.Component | rx.Var | str) -> rx.Component:
    """One ``plain_table`` row: the row's header cell (what names the row for screen readers), then its cells."""
    return rx.el.tr(rx.el.th(header, scope="row"), *[rx.el.td(c) for c in cells])


def download_link(text: str, href: rx.Var | str, label: rx.Var | str | None = None) -> rx.Component:
    """A plain document link (not client-side routing), so the browser fetches the file from the API route with
    the session cookie and saves it. ``label`` is the accessible name when the text alone is ambiguous."""
    extra = {"aria_label": label} if label is not None else {}
    return rx.el.a(
        text,
        href=href,
        download="",
        reload_document=True,
        **extra,
        style={"color": ACCENT, "font_weight": "600", "text_decoration": "underline"},
    )


CHECKBOX_STYLE = {"width": "18px", "height": "18px", "accent_color": ACCENT, "cursor": "pointer"}


def checked(value: Any) -> bool:
    """A checkbox value from the submitted form: a boolean from its ref, or "on" when posted natively."""
    if isinstance(value, str):
        return value.strip().lower() in {"on", "true", "1", "yes"}
    return bool(value)
