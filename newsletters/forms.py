from collections.abc import Mapping, Sequence
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from newsletters import catalogue
from newsletters.addresses import MAX_LENGTH, normalise_email
from newsletters.consent import SIGNUP_ONE_WORDING, SIGNUP_WORDING, Wording
from newsletters.models import Newsletter

MAX_LISTS_PER_SIGNUP = 30


class NewsletterChoiceField(forms.Field):
    """Newsletters by slug, checked against the lists on offer; cleans to Newsletter objects."""

    widget = forms.CheckboxSelectMultiple
    default_error_messages = {
        "required": _("Choose at least one newsletter."),
        "invalid_choice": _("There is no newsletter called “%(value)s”."),
        "invalid_list": _("Choose newsletters from the list."),
        "too_many": _("Choose fewer newsletters."),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.choices: dict[str, Newsletter] | None = None  # None: everything on offer

    def available(self) -> dict[str, Newsletter]:
        return catalogue.offered() if self.choices is None else self.choices

    def to_python(self, value: Any) -> list[str]:
        if value in self.empty_values:
            return []
        if isinstance(value, str):
            return [value]
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise ValidationError(self.error_messages["invalid_list"], code="invalid_list")
        return list(dict.fromkeys(value))

    def clean(self, value: Any) -> list[Newsletter]:
        slugs = self.to_python(value)
        if not slugs and self.required:
            raise ValidationError(self.error_messages["required"], code="required")
        if len(slugs) > MAX_LISTS_PER_SIGNUP:
            raise ValidationError(self.error_messages["too_many"], code="too_many")
        available = self.available()
        for slug in slugs:
            if slug not in available:
                raise ValidationError(
                    self.error_messages["invalid_choice"],
                    code="invalid_choice",
                    params={"value": slug[:60]},
                )
        return [available[slug] for slug in slugs]


class SignupForm(forms.Form):
    email = forms.CharField(
        label=_("Email address"),
        # No max_length here: normalise_email refuses long input with a clearer message.
        widget=forms.EmailInput(attrs={"autocomplete": "email", "maxlength": MAX_LENGTH}),
        error_messages={"required": _("Please enter your email address.")},
    )
    newsletters = NewsletterChoiceField(label=_("Newsletters"))
    # The honeypot: hidden from people, filled in by naive bots.
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(
        self, *args: Any, newsletters: Sequence[Newsletter] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.newsletter_field = cast(NewsletterChoiceField, self.fields["newsletters"])
        if newsletters is not None:
            self.newsletter_field.choices = {n.slug: n for n in newsletters}

    @property
    def newsletter_choices(self) -> list[Newsletter]:
        return list(self.newsletter_field.available().values())

    @property
    def wording(self) -> Wording:
        """The consent text this form shows: one list is named, several are ticked."""
        one = len(self.newsletter_field.available()) == 1
        return SIGNUP_ONE_WORDING if one else SIGNUP_WORDING

    def clean_email(self) -> str:
        return normalise_email(self.cleaned_data["email"])

    def clean_website(self) -> str:
        return _empty_honeypot(self.cleaned_data["website"])

    @classmethod
    def check(cls, data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
        """What is_valid() would decide for this data, as (cleaned data, errors by field),
        without building a form: for the JSON endpoint, which renders nothing, and where a
        form's own copies of its fields cost a tenth of the request. It runs the class's own
        fields, so it offers every list on offer, as a form built without `newsletters` does.
        """
        cleaned: dict[str, Any] = {}
        errors: dict[str, list[str]] = {}
        for name, field in cls.base_fields.items():
            try:
                value = field.clean(field.widget.value_from_datadict(data, {}, name))
                cleaned[name] = _AFTER_FIELD[name](value) if name in _AFTER_FIELD else value
            except ValidationError as error:
                errors[name] = error.messages
        return cleaned, errors


def _empty_honeypot(value: str) -> str:
    if value:
        raise ValidationError(
            _("This form looks automated. If you are a person, empty the last field."),
            code="honeypot",
        )
    return ""


# What the form's clean_<field> methods do after each field's own cleaning.
_AFTER_FIELD = {"email": normalise_email, "website": _empty_honeypot}


class PreferencesForm(forms.Form):
    """The lists a reader keeps; choices are the lists offered plus those they are on."""

    newsletters = forms.ModelMultipleChoiceField(
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
