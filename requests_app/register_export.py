"""The register as a background export (``collab.exports``): the same filters and rows as the
register page's export button, written by a worker when there are too many rows for one request."""

from typing import Any

from django.http import QueryDict

from collab.exports.kinds import ExportKind
from collab.lib.xlsx import XlsxBook
from requests_app.forms import RegisterFilterForm
from requests_app.register import register_book
from requests_app.selectors import register_items


def register_export_book(person: Any, query: str) -> tuple[XlsxBook, int]:
    """The register as ``person`` sees it with the filters of ``query`` (checked when it was
    asked for; filters no longer valid export the whole register, as the page shows it)."""
    filters = RegisterFilterForm(QueryDict(query) or None)
    items = register_items(person, filters.cleaned_data if filters.is_valid() else {})
    return register_book(items), items.order_by().count()


REGISTER_EXPORT = ExportKind(book=register_export_book)
