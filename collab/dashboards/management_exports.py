"""The rows behind each management figure as background exports (``collab.exports``), for the
periods whose rows are too many for one web request: kind ``figure-<slug>``, the page's query
string (period and filters) as its parameters."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import QueryDict

from collab.dashboards import management
from collab.dashboards.forms import period_from
from collab.exports.kinds import ExportKind, register_export_kind
from collab.lib.xlsx import XlsxBook


def figure_export_kind(slug: str) -> str:
    return f"figure-{slug}"


def _book_of(figure: management.RowFigure) -> ExportKind:
    def book(person: Any, query: str) -> tuple[XlsxBook, int]:
        # Management figures are staff's; someone no longer staff gets no file.
        if not person.is_staff:
            raise PermissionDenied
        params = QueryDict(query)
        period, _form = period_from(params)
        rows = figure.rows(period, management.row_filters(params))
        return management.rows_book(figure, period, rows), rows.order_by().count()

    return ExportKind(book=book)


def register_figure_exports() -> None:
    for slug, figure in management.ROW_FIGURES.items():
        register_export_kind(figure_export_kind(slug), _book_of(figure))
