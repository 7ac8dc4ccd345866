"""The register import page: upload an Excel register, read the dry run, then import it."""

import re
import uuid

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from requests_app.register_import import read_register, register_import

UPLOADS = "imports"
TOKEN = re.compile(r"^[0-9a-f]{32}$")


class RegisterFileForm(forms.Form):
    workbook = forms.FileField(
        label=gettext_lazy("Excel register"),
        help_text=gettext_lazy("The communication register in the template's 11 columns (.xlsx)."),
    )


def _path(token: str) -> str:
    return f"{UPLOADS}/register-{token}.xlsx"


@login_required
@require_http_methods(["GET", "POST"])
def register_import_page(request: HttpRequest) -> HttpResponse:
    """GET: the upload form. POST a file: its dry run (kept for importing). POST a token: import it."""
    if not (request.user.is_staff and request.user.has_perm("requests_app.add_collaborationitem")):
        raise PermissionDenied
    token = request.POST.get("token", "")
    if token:
        if not TOKEN.match(token) or not default_storage.exists(_path(token)):
            messages.error(request, _("The uploaded register is gone; please upload it again."))
            return redirect("movein:register_import")
        with default_storage.open(_path(token), "rb") as stream:
            reading = read_register(stream)
        if reading.all_problems:
            return render(
                request, "movein/register_import.html", {"form": RegisterFileForm(), "reading": reading}
            )
        created = register_import(actor=request.user, reading=reading)
        default_storage.delete(_path(token))
        messages.success(
            request,
            _("Imported %(count)s items; %(skipped)s were imported before.")
            % {"count": len(created), "skipped": len(reading.rows) - len(created)},
        )
        return redirect("requests_app:register")
    form = RegisterFileForm(request.POST or None, request.FILES or None)
    context: dict[str, object] = {"form": form}
    if request.method == "POST" and form.is_valid():
        token = uuid.uuid4().hex
        default_storage.save(_path(token), form.cleaned_data["workbook"])
        with default_storage.open(_path(token), "rb") as stream:
            reading = read_register(stream)
        context.update(reading=reading, token="" if reading.all_problems else token)
        if reading.all_problems:
            default_storage.delete(_path(token))
    return render(request, "movein/register_import.html", context, status=400 if form.errors else 200)
