from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from newsletters.addresses import MAX_LENGTH, normalise_email
from newsletters.models import Newsletter

MAX_LISTS_PER_SIGNUP = 30


class NewsletterChoiceField(forms.ModelMultipleChoiceField):
    def clean(self, value: Any) -> Any:
        if isinstance(value, list | tuple) and len(value) > MAX_LISTS_PER_SIGNUP:
            raise ValidationError(_("Choose fewer newsletters."), code="too_many")
        return super().clean(value)


class SignupForm(forms.Form):
    email = forms.CharField(
        label=_("Email address"),
        # No max_length here: normalise_email refuses long input with a clearer message.
        widget=forms.EmailInput(attrs={"autocomplete": "email", "maxlength": MAX_LENGTH}),
        error_messages={"required": _("Please enter your email address.")},
    )
    newsletters = NewsletterChoiceField(
        label=_("Newsletters"),
        queryset=Newsletter.objects.offered(),
        to_field_name="slug",
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Choose at least one newsletter."),
            "invalid_choice": _("There is no newsletter called “%(value)s”."),
            "invalid_list": _("Choose newsletters from the list."),
        },
    )
    # The honeypot: hidden from people, filled in by naive bots.
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(self, *args: Any, newsletters: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if newsletters is not None:
            self.fields["newsletters"].queryset = newsletters  # type: ignore[attr-defined]

    def clean_email(self) -> str:
        return normalise_email(self.cleaned_data["email"])

    def clean_website(self) -> str:
        if self.cleaned_data["website"]:
            raise ValidationError(
                _("This form looks automated. If you are a person, empty the last field."),
                code="honeypot",
            )
        return ""


class RenewForm(forms.Form):
    """A button with no fields: the link itself says what to renew."""


class PreferencesForm(forms.Form):
    """The lists a reader keeps; choices are the lists offered plus those they are on."""

    newsletters = NewsletterChoiceField(
        label=_("Your newsletters"),
        queryset=Newsletter.objects.none(),
        to_field_name="slug",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "invalid_choice": _("There is no newsletter called “%(value)s” to choose here."),
            "invalid_list": _("Choose newsletters from the list."),
        },
    )

    def __init__(self, *args: Any, choices: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["newsletters"].queryset = choices  # type: ignore[attr-defined]


class PreferencesLinkForm(forms.Form):
    email = forms.CharField(
        label=_("Email address"),
        widget=forms.EmailInput(attrs={"autocomplete": "email", "maxlength": MAX_LENGTH}),
        error_messages={"required": _("Please enter your email address.")},
    )

    def clean_email(self) -> str:
        return normalise_email(self.cleaned_data["email"])
