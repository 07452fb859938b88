"""A form its input model refused (``services.inputs.parse`` raises FormInvalid with a plain-words problem per
field), shown the way a page shows any refusal: each problem beside the input it is about; a problem of a field the
page shows no error for goes into the page's message, named by the words the page uses for it. A field's path
(``due_at``, ``steps.2.name``) is never shown to a person."""

from __future__ import annotations

from collections.abc import Mapping

from portal_app.services.errors import FormInvalid
from portal_app.services.inputs import NOTHING_SAVED


def placed(exc: FormInvalid, inline: Mapping[str, str], words: Mapping[str, str], *,
           nothing: str = NOTHING_SAVED) -> tuple[dict[str, str], str]:
    """(field errors, page message) for a refused form.

    ``inline`` maps a field of the input model to the key the page shows its error under; ``words`` names the
    other fields as the page's labels do. The page message says nothing was saved (``nothing``) and names the
    problems that have no place beside an input; it is empty of field paths whatever the model reported.
    """
    errors: dict[str, str] = {}
    elsewhere: list[str] = []
    for path, message in exc.fields.items():
        field = path if path in inline or path in words else path.split(".", 1)[0]
        if field in inline:
            errors.setdefault(inline[field], message)
        else:
            label = words.get(field, "One of the values")
            elsewhere.append(f"{label}: {message[:1].lower()}{message[1:]}")
    if errors:
        elsewhere.append("Correct the marked fields.")
    return errors, " ".join([*elsewhere, nothing])
