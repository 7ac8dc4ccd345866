from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from collab.notify.models import Preference, RobotChannel


class RobotChannelForm(forms.ModelForm):
    """The admin's robot form. The webhook URL and the secret are write-only: the page never
    carries the stored values, only a masked hint; leaving a field empty keeps what is stored."""

    clear_secret = forms.BooleanField(label=_("Remove the stored secret"), required=False)

    class Meta:
        model = RobotChannel
        fields = ["name", "kind", "webhook_url", "secret", "keyword", "department", "item", "active"]
        widgets = {
            "webhook_url": forms.TextInput(attrs={"autocomplete": "off", "size": 80}),
            "secret": forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial["webhook_url"] = ""
        self.initial["secret"] = ""
        if self.instance.pk:
            self.fields["webhook_url"].required = False
            self.fields["webhook_url"].help_text = _("Stored: %(url)s. Leave empty to keep it.") % {
                "url": self.instance.masked_webhook_url
            }
            if self.instance.secret:
                self.fields["secret"].help_text = _("Stored: %(secret)s. Leave empty to keep it.") % {
                    "secret": self.instance.masked_secret
                }

    def clean_webhook_url(self) -> str:
        value = self.cleaned_data.get("webhook_url") or ""
        return value or (self.instance.webhook_url if self.instance.pk else "")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("clear_secret"):
            cleaned["secret"] = ""
        elif not cleaned.get("secret") and self.instance.pk:
            cleaned["secret"] = self.instance.secret
        return cleaned


class PreferenceForm(forms.ModelForm):
    class Meta:
        model = Preference
        fields = ["email", "im_messages", "robot_mentions", "routine_digest"]
