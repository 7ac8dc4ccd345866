"""File downloads built in memory (or a temporary file once they grow), streamed to the browser."""

import tempfile
from collections.abc import Callable
from typing import IO, Any

from django.http import FileResponse

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_response(filename: str, write: Callable[[IO[bytes]], Any]) -> FileResponse:
    """Runs ``write`` into a spooled buffer and serves it as ``filename`` (Chinese names work:
    Django sends them as RFC 5987 filename*=)."""
    # Small workbooks stay in memory, large ones move to a temporary file; FileResponse closes it.
    buffer = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    write(buffer)
    buffer.seek(0)
    return FileResponse(buffer, as_attachment=True, filename=filename, content_type=XLSX)
