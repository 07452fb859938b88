"""The one file of an import request (rate cards, shipments): a multipart form with the file in the field ``file``."""

from __future__ import annotations

from fastapi import Request
from starlette.datastructures import UploadFile

from portal_app.services.errors import ValidationFailed

NOTHING_IMPORTED = "Nothing was imported."


async def read_import_file(request: Request, max_bytes: int, default_name: str) -> tuple[str, bytes]:
    """The file's name and at most ``max_bytes + 1`` of its bytes (the service refuses what is over the limit);
    a declared body far over the limit is refused before it is read."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes + 64 * 1024:
        raise ValidationFailed(f"The file is larger than {max_bytes // (1024 * 1024)} MB. Split it into "
                               f"several files. {NOTHING_IMPORTED}")
    form = await request.form(max_files=1, max_fields=2)
    try:
        file = form.get("file")
        if not isinstance(file, UploadFile):
            raise ValidationFailed(f"Send a multipart form with the file in the field 'file'. {NOTHING_IMPORTED}")
        return file.filename or default_name, await file.read(max_bytes + 1)
    finally:
        await form.close()
