"""A shipment's documents: the required-documents checklist, every version with download links, and the upload
block. Used on the shipment detail page (``ShipmentDocumentsBase`` mixin + ``documents_for_shipment_view``).

Uploads go through ``rx.upload`` but are never saved into Reflex's public upload folder: the handler passes the
received stream to the documents service, which checks it and writes it to private storage. Downloads use the
authenticated API route ``/api/v1/documents/{id}/download``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import reflex as rx

from portal_app.auth.principal import Principal
from portal_app.components.formatting import fmt_date, fmt_datetime
from portal_app.components.ui import (
    DANGER,
    LABEL_STYLE,
    MUTED_TEXT,
    NATIVE_SELECT_STYLE,
    data_table,
    download_link,
    error_callout,
    info_callout,
    primary_button,
)
from portal_app.services import documents as docs
from portal_app.services.errors import ServiceError
from portal_app.services.file_storage import ACCEPTED_DESCRIPTION as ACCEPTED
from portal_app.ui import routes
from portal_app.ui.routes import link
from portal_app.ui.session import page_event, run_db

log = logging.getLogger(__name__)

UPLOAD_ID = "document-upload"
MAX_ROWS = 100  # versions shown per shipment (newest first)


def fmt_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def download_url(document_id: int) -> str:
    return f"/api/v1/documents/{document_id}/download"


@dataclass(frozen=True)
class DocumentLine:
    """One document version as the documents table shows it (``internal`` is "yes" for staff-only files)."""

    id: str
    reference: str
    shipment_href: str
    type: str
    version: str
    filename: str
    size: str
    status: str
    reason: str
    internal: str
    uploaded: str
    download: str
    row_version: str


def document_line(row: docs.DocumentRow, area: str = "portal") -> DocumentLine:
    return DocumentLine(
        id=str(row.id),
        reference=row.shipment_reference,
        shipment_href=link(routes.in_area(area, routes.PORTAL_SHIPMENT, routes.TOWER_SHIPMENT),
                           reference=row.shipment_reference),
        type=row.doc_type_name,
        version=str(row.version_no),
        filename=row.filename,
        size=fmt_size(row.size_bytes),
        status=row.status,
        reason=row.rejection_reason or "",
        internal="yes" if row.visibility == "internal" else "",
        uploaded=fmt_datetime(row.uploaded_at),
        download=download_url(row.id),
        row_version=str(row.row_version),
    )


@dataclass(frozen=True)
class ChecklistLine:
    """One required document of the shipment and where it stands."""

    type: str
    provided_by: str
    state: str
    version: str
    reason: str
    due: str
    overdue: bool
    download: str


def checklist_row_view(item: docs.ChecklistItem) -> ChecklistLine:
    return ChecklistLine(
        type=item.doc_type_name,
        provided_by="Customer" if item.provided_by == "customer" else "Forwarder",
        state=item.state,
        version=str(item.version_no or ""),
        reason=item.rejection_reason or "",
        due=fmt_date(item.due_at),
        overdue=bool(item.overdue),
        download=download_url(item.document_id) if item.document_id else "",
    )


class ShipmentDocumentsBase(rx.State, mixin=True):
    """Documents of one shipment. Call ``await self._load_documents(principal, reference)`` from the page's load."""

    AREA: ClassVar[str] = "portal"
    DOC_TYPES: ClassVar[list[tuple[str, str]]] = list(docs.DOCUMENT_TYPE_NAMES.items())

    doc_reference: str = ""
    doc_rows: list[DocumentLine] = []
    doc_checklist: list[ChecklistLine] = []
    doc_error: str = ""
    upload_doc_type: str = "commercial_invoice"
    upload_error: str = ""
    upload_notice: str = ""
    uploading: bool = False
    upload_percent: int = 0

    async def _load_documents(self, principal: Principal, reference: str) -> None:
        self.doc_reference = reference
        try:
            checklist = await run_db(docs.document_checklist, principal, reference)
            page = await run_db(docs.list_documents, principal, shipment_reference=reference, page_size=MAX_ROWS)
        except ServiceError as exc:  # shown in the documents section; the rest of the page stays
            self.doc_error, self.doc_rows, self.doc_checklist = exc.message, [], []
            return
        self.doc_error = ""
        self.doc_checklist = [checklist_row_view(i) for i in checklist]
        self.doc_rows = [document_line(r, self.AREA) for r in page.rows]

    @page_event()
    async def choose_upload_type(self, principal: Principal, value: str) -> None:
        self.upload_doc_type = value if value in docs.DOCUMENT_TYPE_NAMES else self.upload_doc_type

    @page_event()
    async def upload_progressed(self, principal: Principal, progress: dict[str, Any]) -> None:
        # Progress events travel over the websocket and can arrive after the upload's own answer; the last one
        # (100 %) must not bring "Uploading…" back or wipe the result message.
        percent = max(0, min(100, int(float(progress.get("progress") or 0) * 100)))
        self.uploading = 0 < percent < 100
        self.upload_percent = percent if self.uploading else 0

    @page_event()
    async def upload_rejected(self, principal: Principal, rejected: list[dict[str, Any]]) -> Any:
        """The browser refused the chosen file before sending it (too big or more than one)."""
        self.upload_notice = ""
        self.upload_error = (
            f"That file cannot be sent: choose one file of at most {docs.max_upload_mb()} MB "
            f"({ACCEPTED}). Nothing was stored."
        )
        return rx.clear_selected_files(UPLOAD_ID)

    def _offer_upload_handoff(self, reference: str, files: list[rx.UploadFile], error: str) -> None:
        """On a page that can hand problems to a person, offer it beside the upload with what was tried."""
        if self.AREA != "portal" or not hasattr(self, "_offer_handoff"):
            return
        name = files[0].filename if files else ""
        type_name = docs.doc_type_name(self.upload_doc_type)
        self._offer_handoff(attempted=f"upload {type_name} “{name}” to shipment {reference}", error=error,
                            category="documents", shipment_reference=reference,
                            draft={"doc_type": self.upload_doc_type, "filename": name})

    @page_event(upload=True)
    async def upload_document(self, principal: Principal, files: list[rx.UploadFile], reference: str) -> Any:
        self.upload_error = self.upload_notice = ""
        try:
            if len(files) != 1:
                self.upload_error = "Choose one file to upload first (one at a time). Nothing was stored."
                return None
            row = await run_db(
                docs.upload_document, principal, reference, self.upload_doc_type, files[0].filename, files[0].file
            )
        except ServiceError as exc:  # shown beside the upload, with the offer to ask a person
            self.upload_error = exc.message
            self._offer_upload_handoff(reference, files, exc.message)
        except Exception:  # a failure on our side must still end with a clear message
            log.exception("document upload failed")
            self.upload_error = "The upload failed on our side. Nothing was stored. Try again in a minute."
            self._offer_upload_handoff(reference, files, self.upload_error)
        else:
            self.upload_notice = (
                f"Saved “{row.filename}” as {row.doc_type_name}, version {row.version_no}. "
                "Your forwarder will review it."
            )
            await self._load_documents(principal, reference)
        finally:
            self.uploading, self.upload_percent = False, 0
        return rx.clear_selected_files(UPLOAD_ID)


def document_status_badge(status: rx.Var) -> rx.Component:
    return rx.badge(
        status,
        color_scheme=rx.match(
            status,
            ("approved", "green"),
            ("received", "blue"),
            ("rejected", "red"),
            ("missing", "amber"),
            ("superseded", "gray"),
            "gray",
        ),
        variant="soft",
        high_contrast=True,
    )


def documents_table(rows: rx.Var, caption: str, *, show_shipment: bool,
                    header: Callable[[str], rx.Component] | None = None) -> rx.Component:
    """Document versions with a download link each (the link goes to the authenticated API route). ``header``
    draws a column's header cell (a sortable list's); by default a plain one."""
    headers = (["Shipment"] if show_shipment else []) + ["Type", "Version", "File", "Status", "Uploaded", "Download"]

    def row(r: rx.Var) -> rx.Component:
        cells = ([rx.table.cell(rx.link(r.reference, href=r.shipment_href, weight="bold"))]
                 if show_shipment else [])
        cells += [
            rx.table.row_header_cell(r.type,
                                     rx.cond(r.internal == "yes", rx.text(" (internal)", as_="span"), "")),
            rx.table.cell(r.version),
            rx.table.cell(rx.text(r.filename, " · ", r.size)),
            rx.table.cell(
                document_status_badge(r.status),
                rx.cond(r.reason != "", rx.text(r.reason, size="1", color=MUTED_TEXT), rx.fragment()),
            ),
            rx.table.cell(r.uploaded),
            rx.table.cell(download_link("Download", r.download, "Download " + r.filename)),
        ]
        return rx.table.row(*cells)

    return data_table(caption, headers, rows, row, header=header, variant="surface", size="2")


def _checklist(state: type[ShipmentDocumentsBase]) -> rx.Component:
    headers = ["Document", "Provided by", "Status", "Due", "Note"]
    return data_table(
        "Required documents", headers, state.doc_checklist,
        lambda c: rx.table.row(
            rx.table.row_header_cell(c.type),
            rx.table.cell(c.provided_by),
            rx.table.cell(document_status_badge(c.state)),
            rx.table.cell(
                rx.text(c.due, rx.cond(c.overdue, " · overdue", ""),
                        color=rx.cond(c.overdue, DANGER, "inherit"))
            ),
            rx.table.cell(c.reason),
        ),
        variant="surface",
        size="2",
    )


def file_dropzone(label: str, upload_id: str, hint: str, max_bytes: int, on_rejected: rx.EventHandler,
                  accept: dict[str, list[str]] | None = None, max_files: int = 1) -> rx.Component:
    """One file (or up to ``max_files``), chosen with the dialog or dropped; the label wraps the dropzone's file
    input, so the input is named by ``label``. The handler that receives the upload checks everything again."""
    extra = {"accept": accept} if accept else {}
    return rx.el.label(
        rx.text(label, weight="bold", as_="span"),
        rx.upload.root(
            rx.vstack(
                rx.icon("upload", aria_hidden="true"),
                rx.text("Choose a file or drop it here" if max_files == 1 else "Choose files or drop them here",
                        as_="span"),
                rx.text(hint, size="1", color=MUTED_TEXT, as_="span"),
                align="center",
                spacing="1",
            ),
            id=upload_id,
            multiple=max_files > 1,
            max_files=max_files,
            max_size=max_bytes,
            no_click=True,  # the surrounding label opens the file dialog
            on_drop_rejected=on_rejected,
            border="1px dashed var(--portal-field-border)",
            border_radius="8px",
            padding="20px",
            cursor="pointer",
            width="100%",
            **extra,
        ),
        rx.foreach(rx.selected_files(upload_id), lambda name: rx.text("Selected: ", name, data_testid="selected-file")),
        style={"display": "block", "width": "100%"},
    )


def document_upload_block(state: type[ShipmentDocumentsBase], reference: rx.Var | str) -> rx.Component:
    """Choose a type and one file, then upload it to ``reference``; the service checks everything again."""
    limit = docs.max_upload_mb()
    return rx.card(
        rx.vstack(
            rx.heading("Upload a document", size="4", as_="h3"),
            rx.box(
                rx.el.label("Document type", html_for="upload-doc-type", style=LABEL_STYLE),
                rx.el.select(*[rx.el.option(name, value=key) for key, name in state.DOC_TYPES], id="upload-doc-type",
                             value=state.upload_doc_type, on_change=state.choose_upload_type,
                             style={**NATIVE_SELECT_STYLE, "width": "auto"}),
            ),
            file_dropzone("File to upload", UPLOAD_ID, f"{ACCEPTED}; up to {limit} MB.", limit * 1024 * 1024,
                          state.upload_rejected),
            rx.hstack(
                primary_button(
                    rx.cond(state.uploading, "Uploading…", "Upload document"),
                    on_click=state.upload_document(
                        rx.upload_files(upload_id=UPLOAD_ID, on_upload_progress=state.upload_progressed), reference
                    ),
                    disabled=state.uploading,
                ),
                rx.cond(
                    state.uploading,
                    rx.hstack(rx.el.progress(value=state.upload_percent, max=100, aria_label="Upload progress",
                                              style={"width": "160px", "accent_color": "#0b5cad"}),
                              rx.text("Uploading… ", state.upload_percent, "%", role="status"), align="center"),
                    rx.fragment(),
                ),
                align="center",
            ),
            rx.cond(state.upload_error != "", error_callout(state.upload_error), rx.fragment()),
            rx.cond(state.upload_notice != "", info_callout(state.upload_notice), rx.fragment()),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def documents_for_shipment_view(state: type[ShipmentDocumentsBase],
                                reference: rx.Var | str | None = None) -> rx.Component:
    """The shipment's documents section: checklist, versions with downloads, upload block."""
    target = state.doc_reference if reference is None else reference
    return rx.vstack(
        rx.heading("Documents", size="5", as_="h2"),
        rx.cond(state.doc_error != "", error_callout(state.doc_error), rx.fragment()),
        rx.heading("Required documents", size="3", as_="h3"),
        rx.cond(
            state.doc_checklist.length() > 0,
            _checklist(state),
            rx.text("No documents are required from you for this shipment.", color=MUTED_TEXT),
        ),
        rx.heading("Uploaded documents", size="3", as_="h3"),
        rx.cond(
            state.doc_rows.length() > 0,
            documents_table(state.doc_rows, "Shipment documents", show_shipment=False),
            rx.text("No documents yet.", color=MUTED_TEXT),
        ),
        document_upload_block(state, target),
        spacing="3",
        width="100%",
        id="documents",  # the closeout checklist's "fix it" link lands here
    )
