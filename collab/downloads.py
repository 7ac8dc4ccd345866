"""File downloads streamed to the browser while they are written."""

from django.http import StreamingHttpResponse
from django.utils.http import content_disposition_header

from collab.lib.xlsx import XlsxBook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_response(filename: str, book: XlsxBook) -> StreamingHttpResponse:
    """Streams ``book`` as ``filename``: the first bytes leave while later rows are still read
    (Chinese names work: Django sends them as RFC 5987 filename*=)."""
    response = StreamingHttpResponse(book.stream(), content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response
