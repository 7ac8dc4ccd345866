from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.contrib.auth.views import LoginView, PasswordResetView
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import check_for_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from collab.org import throttle
from collab.org.pickers import search_departments, search_people
from collab.org.services import person_set_language
from collab.org.signin.policy import PASSWORD_BACKEND, password_allowed
from collab.org.signin.views import sign_in_sources


def _with_language(response: HttpResponse, language: str) -> HttpResponse:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        samesite="Lax",
    )
    return response


class CollabAuthenticationForm(AuthenticationForm):
    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        # A directory (LDAP) password is the company account; a password kept here is not.
        if getattr(user, "backend", "") == PASSWORD_BACKEND and not password_allowed(user):
            raise forms.ValidationError(
                _("Sign in with your company account: passwords kept here are switched off."),
                code="sso_required",
            )


class CollabLoginView(LoginView):
    """Logs in and switches the interface to the person's preferred language. Password guessing
    is throttled per account and per address (``collab.org.throttle``)."""

    form_class = CollabAuthenticationForm
    lockout = ""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["sign_in_sources"] = sign_in_sources()
        context["lockout"] = self.lockout
        return context

    def _keys(self, form: AuthenticationForm) -> list[throttle.Key]:
        account = str(form.data.get("username", ""))
        return throttle.keys_for("login", account=account, address=throttle.client_address(self.request))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = self.get_form()
        try:
            throttle.refuse_if_locked(self._keys(form))
        except throttle.Locked as locked:
            self.lockout = str(locked)
            response = self.render_to_response(self.get_context_data(form=form))
            response.status_code = 429
            return response
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        throttle.record_success(self._keys(form))
        response = super().form_valid(form)
        person = getattr(form.get_user(), "person", None)
        return _with_language(response, person.language) if person else response

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        if until := throttle.record_failure(self._keys(form)):
            self.lockout = throttle.lockout_message(until)
        return super().form_invalid(form)


class CollabPasswordResetView(PasswordResetView):
    """Each reset request sends an e-mail: a few per e-mail address and per client address."""

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        keys = throttle.keys_for(
            "reset", account=form.cleaned_data["email"], address=throttle.client_address(self.request)
        )
        keys[0] = throttle.Key(keys[0].name, throttle.reset_limit())
        try:
            throttle.refuse_if_locked(keys)
        except throttle.Locked as locked:
            form.add_error("email", str(locked))
            response = self.form_invalid(form)
            response.status_code = 429
            return response
        throttle.record_failure(keys)  # every request counts: each one sends an e-mail
        return super().form_valid(form)


@require_POST
def language_switch(request: HttpRequest) -> HttpResponse:
    language = request.POST.get("language", "")
    target = request.POST.get("next", "/")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    response = HttpResponseRedirect(target)
    if not check_for_language(language) or language not in dict(settings.LANGUAGES):
        return response
    if request.user.is_authenticated:
        person_set_language(actor=request.user, language=language)
    return _with_language(response, language)


@login_required
@require_GET
def picker_people(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"results": search_people(request.GET.get("q", ""))})


@login_required
@require_GET
def picker_departments(request: HttpRequest) -> JsonResponse:
    # ?headed=1: the department dashboard's picker, which offers a head only what they head.
    headed_by = request.user if request.GET.get("headed") == "1" and not request.user.is_staff else None
    return JsonResponse({"results": search_departments(request.GET.get("q", ""), headed_by=headed_by)})
