"""File downloads: Excel streamed while it is written, stored files served from storage."""

from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.utils.http import content_disposition_header

from collab.lib.xlsx import XlsxBook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_response(filename: str, book: XlsxBook) -> StreamingHttpResponse:
    """Streams ``book`` as ``filename``: the first bytes leave while later rows are still read
    (Chinese names work: Django sends them as RFC 5987 filename*=)."""
    response = StreamingHttpResponse(book.stream(), content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


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
