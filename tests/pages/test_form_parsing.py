"""Pages parse their forms into the same models the API takes (`services/inputs.py::parse`): the same rules, with
each field's problem in plain words."""

from __future__ import annotations

import pytest

from portal_app.services.errors import ErrorCode, FormInvalid
from portal_app.services.inputs import Body, Id, IsoDate, parse


class Example(Body):
    owner_id: Id | None = None
    ready: IsoDate
    name: str


def test_a_form_is_read_into_the_model_with_the_api_rules():
    parsed = parse(Example, {"owner_id": "12", "ready": "2026-12-07", "name": "Nord"})
    assert parsed.owner_id == 12 and parsed.ready.isoformat() == "2026-12-07"


def test_every_wrong_field_is_named_in_plain_words():
    with pytest.raises(FormInvalid) as refused:
        parse(Example, {"owner_id": "9999999999", "ready": "0"})
    error = refused.value
    assert error.code == ErrorCode.INVALID_FORM and "Nothing was saved" in error.message
    assert set(error.fields) == {"owner_id", "ready", "name"}
    assert error.fields["owner_id"] == "Give a smaller number." and error.fields["name"] == "Fill this in."
    assert "YYYY-MM-DD" in error.fields["ready"]
