"""PDF documents from HTML templates with WeasyPrint, Chinese text in an embedded CJK font.

Templates extend "pdf/base.html", which names the Noto CJK fonts (Debian's fonts-noto-cjk).
Without them WeasyPrint silently draws boxes; tests check with pypdf that a CJK font is embedded.
"""

from typing import Any

from django.conf import settings
from django.template.loader import render_to_string


def render_pdf(template_name: str, context: dict[str, Any]) -> bytes:
    """The PDF of ``template_name`` rendered with ``context`` (in the active language)."""
    from weasyprint import HTML  # imported here: loading pango takes a moment, only PDF work needs it

    html = render_to_string(template_name, context)
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()
