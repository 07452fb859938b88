"""Closeout over the demo data: every shipment the demo has closed passes its own checklist, a delivered one with
items open is refused with exactly those items, a ready one closes and its customer then reads it as completed and
downloads its documents as one archive (without the internal ones)."""

from __future__ import annotations

import io
import zipfile

import pytest
from sqlmodel import select

from models import Shipment
from portal_app.services import document_archive, shipments, workspace
from portal_app.services.errors import Conflict, NotFound
from tests.closeout_world import upload
from tests.quote_world import QuoteWorld


def test_closeout_over_the_demo_data(demo: QuoteWorld):
    w = demo
    with w.session() as db:
        rows = db.exec(select(Shipment.reference, Shipment.status, Shipment.company_id)).all()
        states = {ref: workspace.closeout(db, w.manager, ref) for ref, _, _ in rows}
        closed = [s for s in states.values() if s.closed]
        assert closed and all(all(i.done for i in s.items) for s in closed)
        not_yet = [ref for ref, status, _ in rows if status in ("booked", "confirmed", "in_transit", "cancelled")]
        assert not_yet and not any(states[ref].due or states[ref].items for ref in not_yet)
        open_ones = [s for s in states.values() if s.due and not s.closed and not s.can_close]
        assert {i.key for s in open_ones for i in s.items if not i.done} == set(workspace.CLOSEOUT_ITEMS)
        for state in open_ones:
            with pytest.raises(Conflict) as refused:
                workspace.close_shipment(db, w.agent, state.reference,
                                         workspace.CloseInput(expected_version=state.version))
            assert set(refused.value.fields) == {i.key for i in state.items if not i.done}

        mine = next(ref for ref, _, company in rows if company == w.alice.company_id and states[ref].can_close)
        s = db.exec(select(Shipment).where(Shipment.reference == mine)).one()
        upload(db, w.agent, s, "proof_of_delivery", "POD.pdf")
        upload(db, w.agent, s, "other", "margin.pdf", visibility="internal")
        workspace.close_shipment(db, w.agent, mine, workspace.CloseInput(expected_version=states[mine].version))
        assert shipments.get_shipment(db, w.alice, mine).row.status == "closed"
        archive = document_archive.shipment_archive(db, w.alice, mine)
        data = b"".join(document_archive.stream_zip(archive))
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            # The demo's own document rows may have files too when another test wrote the demo's files into the
            # shared data directory: the new customer document is there, the internal one never.
            names = zf.namelist()
            assert "POD.pdf" in names and "margin.pdf" not in names
        other = next(ref for ref, _, company in rows if company != w.alice.company_id)
        with pytest.raises(NotFound):
            document_archive.shipment_archive(db, w.alice, other)
