import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from membership.demo import PORTAL_ACTIONS
from membership.models import Plan
from newsletters.addresses import MAX_LENGTH, normalise_email
from newsletters.models import Newsletter

_ATTEMPT = re.compile(r"^[0-9a-f]{32}$")


class EmailField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            label=_("Email address"),
            widget=forms.EmailInput(attrs={"autocomplete": "email", "maxlength": MAX_LENGTH}),
            error_messages={"required": _("Please enter your email address.")},
            **kwargs,
        )

    def clean(self, value: Any) -> str:
        return normalise_email(super().clean(value))


class AttemptField(forms.CharField):
    """A random value the page carries, so a double click asks Stripe for one thing, not two."""

    def __init__(self) -> None:
        super().__init__(
            widget=forms.HiddenInput,
            error_messages={"required": _("Something went wrong. Please try again.")},
        )

    def validate(self, value: Any) -> None:
        super().validate(value)
        if not _ATTEMPT.match(value):
            raise ValidationError(_("Something went wrong. Please try again."), code="attempt")


class JoinForm(forms.Form):
    plan = forms.ModelChoiceField(
        label=_("Choose how to pay"),
        queryset=Plan.objects.offered(),
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={
            "required": _("Choose monthly or yearly."),
            "invalid_choice": _("Choose one of the plans shown."),
        },
    )
    email = EmailField()
    attempt = AttemptField()


class SignInForm(forms.Form):
    email = EmailField()


class AttemptForm(forms.Form):
    attempt = AttemptField()


class MemberListForm(forms.Form):
    newsletter = forms.ModelChoiceField(
        queryset=Newsletter.objects.filter(audience=Newsletter.Audience.MEMBERS),
        to_field_name="slug",
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": _("There is no members' newsletter of that name.")},
    )


class DemoPortalForm(forms.Form):
    membership = forms.IntegerField(widget=forms.HiddenInput)
    action = forms.ChoiceField(choices=[(action, action) for action in PORTAL_ACTIONS])
