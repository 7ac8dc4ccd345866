"""File downloads built in memory (or a temporary file once they grow), streamed to the browser."""

import tempfile
from collections.abc import Callable
from typing import IO, Any

from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_response(filename: str, write: Callable[[IO[bytes]], Any]) -> FileResponse:
    """Runs ``write`` into a spooled buffer and serves it as ``filename`` (Chinese names work:
    Django sends them as RFC 5987 filename*=)."""
    # Small workbooks stay in memory, large ones move to a temporary file; FileResponse closes it.
    buffer = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    write(buffer)
    buffer.seek(0)
    return FileResponse(buffer, as_attachment=True, filename=filename, content_type=XLSX)


def stored_file_response(stored: FieldFile, filename: str, content_type: str | None = None) -> FileResponse:
    """Serves an uploaded or built file as ``filename``; a file missing from storage (deleted,
    a restore without media) is "not found", not a server error."""
    if not stored:
        raise Http404
    try:
        handle = stored.storage.open(str(stored.name), "rb")
    except OSError as error:
        raise Http404 from error
    return FileResponse(handle, as_attachment=True, filename=filename, content_type=content_type)
