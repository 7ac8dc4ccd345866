"""The kinds of background export, registered by the apps that own their data (from their
AppConfig.ready), so this base package imports no stage."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from collab.lib.xlsx import XlsxBook


@dataclass(frozen=True)
class ExportKind:
    """``book(person, query)`` makes the workbook for the page's filters (a query string) as that
    person sees it, and says how many rows it will hold (for the progress bar)."""

    book: Callable[[Any, str], tuple[XlsxBook, int]]


_KINDS: dict[str, ExportKind] = {}


def register_export_kind(name: str, kind: ExportKind) -> None:
    _KINDS[name] = kind


def export_kind(name: str) -> ExportKind:
    return _KINDS[name]
