"""Pages of signing in with the company account, and of the signing PIN."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from collab.org import throttle
from collab.org.models import DirectorySource
from collab.org.signin.identity import SSO_AT, SignInError, oidc_user_for, sign_in_complete, user_for
from collab.org.signin.oidc import oidc_finish, oidc_start
from collab.org.signin.pin import PinError, has_signing_pin, signing_pin_set
from collab.org.signin.vendors import vendor_authorize_url, vendor_finish

NEXT = "collab_signin_next"
REDIRECTING_KINDS = [
    DirectorySource.Kind.OIDC,
    DirectorySource.Kind.DINGTALK,
    DirectorySource.Kind.FEISHU,
    DirectorySource.Kind.WECOM,
]


def sign_in_sources() -> list[DirectorySource]:
    """The company accounts the login page offers as buttons (LDAP uses the password form)."""
    return list(DirectorySource.objects.filter(sign_in=True, kind__in=REDIRECTING_KINDS).order_by("name"))


def _source(pk: int) -> DirectorySource:
    source = DirectorySource.objects.filter(pk=pk, sign_in=True, kind__in=REDIRECTING_KINDS).first()
    if source is None:
        raise Http404(_("There is no such way to sign in."))
    return source


def _callback(source: DirectorySource) -> str:
    # The address registered with the provider: the public base URL, not whatever Host came in.
    return f"{settings.COLLAB_BASE_URL}{reverse('signin_callback', args=[source.pk])}"


@require_GET
def signin_start(request: HttpRequest, pk: int) -> HttpResponse:
    source = _source(pk)
    target = request.GET.get("next", "/")
    safe = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
    request.session[NEXT] = target if safe else "/"
    if source.kind == DirectorySource.Kind.OIDC:
        return oidc_start(request, source, _callback(source))
    return redirect(vendor_authorize_url(request, source, _callback(source)))


@require_GET
def signin_callback(request: HttpRequest, pk: int) -> HttpResponse:
    source = _source(pk)
    try:
        if source.kind == DirectorySource.Kind.OIDC:
            subject, claims = oidc_finish(request, source)
            user = oidc_user_for(source, subject, claims)
        else:
            subject = vendor_finish(request, source, _callback(source))
            user = user_for(source, subject)
    except SignInError as error:
        messages.error(request, str(error))
        return redirect("login")
    target = request.session.pop(NEXT, "/")
    sign_in_complete(request, source=source, subject=subject, user=user)
    return redirect(target)


class SigningPinForm(forms.Form):
    current_pin = forms.CharField(
        label=gettext_lazy("Current signing PIN"),
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )
    pin = forms.CharField(
        label=gettext_lazy("New signing PIN"),
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
        help_text=gettext_lazy("6 to 12 digits. You type it when you sign an acceptance form."),
    )
    again = forms.CharField(
        label=gettext_lazy("The new PIN again"),
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        if cleaned.get("pin") and cleaned.get("pin") != cleaned.get("again"):
            raise forms.ValidationError(_("The two PINs differ."))
        return cleaned


@login_required
@require_http_methods(["GET", "POST"])
def signing_pin(request: HttpRequest) -> HttpResponse:
    form = SigningPinForm(request.POST or None)
    has_pin = has_signing_pin(request.user)
    if not has_pin:
        form.fields.pop("current_pin")
    if request.method == "POST" and form.is_valid():
        try:
            signing_pin_set(
                actor=request.user,
                pin=form.cleaned_data["pin"],
                current_pin=form.cleaned_data.get("current_pin", ""),
                sso_at=request.session.get(SSO_AT),
                ip_address=throttle.client_address(request),
            )
        except PinError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Your signing PIN is set."))
            return redirect("signing_pin")
    status = 400 if request.method == "POST" else 200
    return render(request, "registration/signing_pin.html", {"form": form, "has_pin": has_pin}, status=status)
