"""Directory sources in the admin: configure, preview the diff, apply it, read past runs."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from collab.downloads import xlsx_response
from collab.movein import services
from collab.movein.handover import KINDS
from collab.org.models import DirectorySource, SignInPolicy, SyncRun
from collab.org.signin.policy import sign_in_policy_set
from collab.org.sync.engine import run_changes
from collab.org.sync.snapshot import DirectoryError
from collab.org.sync.spreadsheet import read_workbook, template_book


class DirectorySourceForm(forms.ModelForm):
    secret = forms.CharField(
        label=gettext_lazy("secret"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=gettext_lazy(
            "DingTalk AppSecret, Feishu App Secret, WeCom secret or the LDAP bind password. Stored "
            "encrypted and never shown again; leave empty to keep the stored one."
        ),
    )

    class Meta:
        model = DirectorySource
        fields = [
            "kind",
            "name",
            "base_url",
            "app_id",
            "secret",
            "root_department_id",
            "user_base",
            "scheduled",
            "sign_in",
        ]


class WorkbookForm(forms.Form):
    workbook = forms.FileField(
        label=gettext_lazy("Excel workbook"),
        help_text=gettext_lazy("Departments on the first sheet, people on the second, as in the template."),
    )


@admin.register(DirectorySource)
class DirectorySourceAdmin(admin.ModelAdmin):
    form = DirectorySourceForm
    list_display = ["name", "kind", "scheduled", "last_synced_at", "has_secret", "last_error"]
    readonly_fields = ["last_synced_at", "last_error"]

    @admin.display(description=gettext_lazy("secret stored"), boolean=True)
    def has_secret(self, source: DirectorySource) -> bool:
        return bool(source.sealed_secret)

    def save_model(self, request: HttpRequest, obj: DirectorySource, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if form.cleaned_data.get("secret"):
            services.directory_source_set_secret(
                actor=request.user, source=obj, secret=form.cleaned_data["secret"]
            )

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/sync/<str:mode>/",
                view(require_POST(self.sync_view)),
                name="org_directorysource_sync",
            ),
            path("runs/<int:run_id>/", view(self.run_view), name="org_directorysource_run"),
            path(
                "runs/<int:run_id>/apply/",
                view(require_POST(self.apply_run_view)),
                name="org_directorysource_apply_run",
            ),
            path(
                "<path:object_id>/import/",
                view(require_POST(self.import_view)),
                name="org_directorysource_import",
            ),
            path("excel-template.xlsx", view(self.template_view), name="org_directorysource_template"),
            *super().get_urls(),
        ]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> Any:
        context = dict(extra_context or {})
        source = self.get_object(request, unquote(object_id))
        if source is not None:
            context["sync_urls"] = {
                mode: reverse("admin:org_directorysource_sync", args=[source.pk, mode])
                for mode in ("preview", "apply")
            }
            context["runs"] = [
                (run, reverse("admin:org_directorysource_run", args=[run.pk]))
                for run in source.runs.all()[:10]
            ]
        return super().change_view(request, object_id, form_url, extra_context=context)

    def sync_view(self, request: HttpRequest, object_id: str, mode: str) -> HttpResponse:
        source = self.get_object(request, unquote(object_id))
        if source is None or mode not in {"preview", "apply"}:
            raise Http404(_("There is no such directory source."))
        if not self.has_change_permission(request, source):
            raise PermissionDenied
        action = services.directory_apply if mode == "apply" else services.directory_preview
        try:
            run = action(source=source, actor=request.user)
        except DirectoryError as error:
            messages.error(request, _("The sync changed nothing: %(error)s") % {"error": error})
            return HttpResponseRedirect(reverse("admin:org_directorysource_change", args=[source.pk]))
        return HttpResponseRedirect(reverse("admin:org_directorysource_run", args=[run.pk]))

    def import_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        source = self.get_object(request, unquote(object_id))
        if source is None or source.kind != DirectorySource.Kind.EXCEL:
            raise Http404(_("There is no such directory source."))
        if not self.has_change_permission(request, source):
            raise PermissionDenied
        form = WorkbookForm(request.POST, request.FILES)
        problems: list[str] = []
        if form.is_valid():
            snapshot, problems = read_workbook(form.cleaned_data["workbook"])
            if not problems:
                try:
                    run = services.directory_import_preview(
                        source=source, actor=request.user, snapshot=snapshot
                    )
                except DirectoryError as error:
                    problems = [str(error)]
                else:
                    return HttpResponseRedirect(reverse("admin:org_directorysource_run", args=[run.pk]))
        else:
            problems = [str(e) for errors in form.errors.values() for e in errors]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("The workbook cannot be imported: nothing changed"),
            "problems": problems,
            "source": source,
            "source_url": reverse("admin:org_directorysource_change", args=[source.pk]),
        }
        return TemplateResponse(request, "admin/org/directorysource/problems.html", context, status=400)

    def template_view(self, request: HttpRequest) -> StreamingHttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return xlsx_response(_("organisation-template.xlsx"), template_book())

    def apply_run_view(self, request: HttpRequest, run_id: int) -> HttpResponse:
        run = SyncRun.objects.select_related("source").filter(pk=run_id, applied=False).first()
        if run is None:
            raise Http404(_("There is no such sync run."))
        if not self.has_change_permission(request, run.source):
            raise PermissionDenied
        try:
            applied = services.directory_apply_run(run=run, actor=request.user)
        except DirectoryError as error:
            messages.error(request, _("The sync changed nothing: %(error)s") % {"error": error})
            return HttpResponseRedirect(reverse("admin:org_directorysource_run", args=[run.pk]))
        return HttpResponseRedirect(reverse("admin:org_directorysource_run", args=[applied.pk]))

    def run_view(self, request: HttpRequest, run_id: int) -> HttpResponse:
        run = SyncRun.objects.select_related("source", "actor").filter(pk=run_id).first()
        if run is None:
            raise Http404(_("There is no such sync run."))
        if not self.has_view_permission(request, run.source):
            raise PermissionDenied
        changes = run_changes(run)
        handover = run.diff.get("handover") or []
        for person in handover:
            for entry in person["items"]:
                entry["kind_label"] = KINDS.get(entry["kind"], entry["kind"])
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": (_("Sync applied: %(source)s") if run.applied else _("Sync preview: %(source)s"))
            % {"source": run.source.name},
            "run": run,
            "sections": [
                (heading, rows)
                for heading, rows in (
                    (_("Departments"), [c for c in changes if c.kind == "department"]),
                    (_("People"), [c for c in changes if c.kind == "person"]),
                )
                if rows
            ],
            "handover": handover,
            "apply_url": reverse("admin:org_directorysource_apply_run", args=[run.pk]),
            "source_url": reverse("admin:org_directorysource_change", args=[run.source_id]),
        }
        return TemplateResponse(request, "admin/org/directorysource/run.html", context)


@admin.register(SignInPolicy)
class SignInPolicyAdmin(admin.ModelAdmin):
    """Require the company account for everyone but the admin who requires it."""

    fields = ["require_sso", "create_accounts", "exempt"]
    readonly_fields = ["exempt"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not SignInPolicy.objects.exists() and super().has_add_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: SignInPolicy, form: Any, change: bool) -> None:
        saved = sign_in_policy_set(
            actor=request.user, require_sso=obj.require_sso, create_accounts=obj.create_accounts
        )
        obj.pk, obj.exempt = saved.pk, saved.exempt
