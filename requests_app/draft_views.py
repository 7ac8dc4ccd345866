"""What a person typed in the requirement form survives a session timeout.

- While they type, the page posts the form in the background (``draft_keep``, HTMX); the server
  keeps it for them and the page says when.
- A post that arrives after the session expired (the person took their time, the session row
  was removed) is not dropped at the login page: ``keeps_input`` keeps it for the person the
  form page was made for (a signed token in the form names them) and sends them to sign in;
  after signing in, the form comes back with what they typed.
- A post refused by the CSRF check (the person signed in again in another tab, which renews
  the token) is kept the same way by ``csrf_failure`` instead of ending on an error page. Keeping
  is safe without the CSRF check: it needs the signed token of the form page, which another
  site cannot read, and it only ever writes the owner's scratch copy, never the item.
- Only the owner reads a kept draft back; whoever else signs in on the same computer does not.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve, reverse
from django.utils.translation import gettext as _
from django.views.csrf import csrf_failure as django_csrf_failure
from django.views.decorators.http import require_POST

from requests_app.access import EDIT_FORM, item_for
from requests_app.draft_services import draft_owner, form_draft_discard, form_draft_keep
from requests_app.models import FormDraft

View = Callable[..., HttpResponse]


def _kept_for_owner(request: HttpRequest, form: str) -> bool:
    """Keeps an anonymous post for the person its form page was made for, if it names one."""
    owner = draft_owner(request.POST.get("draft_token", ""), form)
    if owner is None or not get_user_model().objects.filter(pk=owner, is_active=True).exists():
        return False
    form_draft_keep(owner_id=owner, form=form, data=dict(request.POST.lists()))
    return True


def keeps_input(view: View) -> View:
    """``login_required`` for the requirement form's pages, except that a post arriving without
    a session is kept for its owner before the person is sent to sign in."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        if request.method == "POST" and _kept_for_owner(request, FormDraft.key_for(kwargs.get("pk"))):
            messages.warning(
                request,
                _(
                    "Your session had expired, so nothing was sent. What you typed is kept: sign in "
                    "again and it is back in the form."
                ),
            )
            return redirect_to_login(request.path)
        return redirect_to_login(request.get_full_path())

    return wrapped


def _form_url(pk: int | None) -> str:
    return reverse("requests_app:item_create") if pk is None else reverse("requests_app:item_edit", args=[pk])


@require_POST
def draft_keep(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """HTMX, while the person types: keeps the form's content and says so."""
    form = FormDraft.key_for(pk)
    if not request.user.is_authenticated:
        if not _kept_for_owner(request, form):
            return redirect_to_login(_form_url(pk))
        return render(request, "requests_app/item_form.html#draft_status", {"expired": True})
    if pk is not None:
        item_for(request.user, pk, EDIT_FORM)
    draft = form_draft_keep(owner_id=request.user.pk, form=form, data=dict(request.POST.lists()))
    return render(request, "requests_app/item_form.html#draft_status", {"kept": draft})


@login_required
@require_POST
def draft_discard(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Forgets the kept input and shows the form as it was before the person typed."""
    if pk is not None:
        item_for(request.user, pk, EDIT_FORM)
    form_draft_discard(owner=request.user, form=FormDraft.key_for(pk))
    messages.success(request, _("What you typed is discarded."))
    return redirect(_form_url(pk))


# The requirement form's pages whose posts are kept when the CSRF check refuses them.
_FORM_PAGES = {"item_create", "item_edit", "item_draft_keep", "item_edit_draft_keep"}


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: a requirement form's post is kept for its owner and the person sent
    back to the form (or to sign in); every other refused post gets Django's 403 page."""
    try:
        match = resolve(request.path_info)
    except Resolver404:
        match = None
    if request.method != "POST" or match is None or match.url_name not in _FORM_PAGES:
        return django_csrf_failure(request, reason)
    pk = match.kwargs.get("pk")
    if not _kept_for_owner(request, FormDraft.key_for(pk)):
        return django_csrf_failure(request, reason)
    if match.url_name.endswith("draft_keep"):
        return render(request, "requests_app/item_form.html#draft_status", {"expired": True})
    messages.warning(
        request,
        _("This page had expired, so nothing was sent. What you typed is kept and back in the form."),
    )
    if not request.user.is_authenticated:
        return redirect_to_login(_form_url(pk))
    return redirect(_form_url(pk))
