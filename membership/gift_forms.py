"""Forms for buying gifts, changing them from the gift page, and typing in a gift code."""

import unicodedata
from datetime import date
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from membership.forms import AttemptField, EmailField
from membership.models import GiftPrice
from membership.models.gifts import (
    CODE_LENGTH,
    MAX_GIFTS_PER_PURCHASE,
    MESSAGE_MAX_LENGTH,
    NAME_MAX_LENGTH,
    normalise_code,
)
from membership.months import newsroom_today
from newsletters.addresses import normalise_email


def _has_control_characters(text: str, allow_newlines: bool = False) -> bool:
    allowed = {"\n"} if allow_newlines else set()
    return any(unicodedata.category(ch).startswith("C") and ch not in allowed for ch in text)


class NameField(forms.CharField):
    """A person's name on one line: nothing that could break out of a header or a line."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            max_length=NAME_MAX_LENGTH,
            error_messages={
                "max_length": _("Please keep names to %(limit_value)d characters."),
                **kwargs.pop("error_messages", {}),
            },
            widget=forms.TextInput(attrs={"maxlength": NAME_MAX_LENGTH}),
            **kwargs,
        )

    def validate(self, value: Any) -> None:
        super().validate(value)
        if _has_control_characters(value):
            raise ValidationError(
                _("Names can't contain line breaks or other control characters."), code="control"
            )


class MessageField(forms.CharField):
    def __init__(self) -> None:
        super().__init__(
            label=_("Your message (optional)"),
            help_text=_("Up to 300 characters, shown in the gift email and nowhere else."),
            required=False,
            max_length=MESSAGE_MAX_LENGTH,
            strip=True,
            widget=forms.Textarea(attrs={"rows": 4, "maxlength": MESSAGE_MAX_LENGTH}),
            error_messages={
                "max_length": _(
                    "Please keep your message to %(limit_value)d characters "
                    "(it has %(show_value)d)."
                )
            },
        )

    def to_python(self, value: Any) -> str:
        # Browsers send line breaks as CRLF; they count as one character, as on screen.
        return str(super().to_python(value)).replace("\r\n", "\n").replace("\r", "\n")

    def validate(self, value: Any) -> None:
        super().validate(value)
        if _has_control_characters(value, allow_newlines=True):
            raise ValidationError(
                _("Please use only ordinary text in your message."), code="control"
            )


class DeliveryDateField(forms.DateField):
    """A day from today to a year ahead, in the newsroom's time zone; empty means now."""

    def __init__(self) -> None:
        super().__init__(
            label=_("Delivery date (optional)"),
            help_text=_(
                "Leave it empty to send the gift as soon as you've paid, or choose a day up to "
                "a year ahead: it arrives that morning."
            ),
            required=False,
            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            error_messages={"invalid": _("Enter a date like 2027-12-24.")},
        )

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value is None:
            return
        today = newsroom_today()
        if value < today:
            raise ValidationError(_("Choose today or a day ahead."), code="past")
        if value > _a_year_after(today):
            raise ValidationError(_("Choose a day at most a year ahead."), code="too_far")


def _a_year_after(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


class RecipientForm(forms.Form):
    name = NameField(
        label=_("Their name"),
        error_messages={"required": _("Please enter the name of the person the gift is for.")},
    )
    email = EmailField()
    months = forms.TypedChoiceField(
        label=_("How long"),
        coerce=int,
        error_messages={
            "required": _("Choose how long the gift membership lasts."),
            "invalid_choice": _("Choose one of the lengths shown."),
        },
    )
    message = MessageField()
    deliver_on = DeliveryDateField()
    gift_number = 0  # which gift on the page, for the error summary

    def __init__(self, *args: Any, prices: list[GiftPrice] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].label = _("Their email address")
        prices = prices if prices is not None else list(GiftPrice.objects.offered())
        months = cast(forms.TypedChoiceField, self.fields["months"])
        months.choices = [(p.months, p.label) for p in prices]


class BaseRecipientFormSet(forms.BaseFormSet[RecipientForm]):
    def __init__(self, *args: Any, prices: list[GiftPrice] | None = None, **kwargs: Any) -> None:
        self.prices = prices if prices is not None else list(GiftPrice.objects.offered())
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        return {**super().get_form_kwargs(index), "prices": self.prices}


RecipientFormSet = cast(
    type[BaseRecipientFormSet],
    forms.formset_factory(
        RecipientForm,
        formset=BaseRecipientFormSet,
        extra=0,
        min_num=1,
        max_num=MAX_GIFTS_PER_PURCHASE,
        absolute_max=MAX_GIFTS_PER_PURCHASE,
        validate_min=True,
        validate_max=True,
    ),
)
RECIPIENTS_PREFIX = "recipients"


class BuyerForm(forms.Form):
    buyer_name = NameField(
        label=_("Your name"),
        help_text=_("The gift email tells them who it's from."),
        error_messages={"required": _("Please enter your name.")},
    )
    buyer_email = EmailField(help_text=_("For your receipt, and your gift page."))
    attempt = AttemptField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["buyer_email"].label = _("Your email address")


class AddressForm(forms.Form):
    email = EmailField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].label = _("Their email address")


class DateForm(forms.Form):
    deliver_on = DeliveryDateField()


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Gift code"),
        max_length=40,
        help_text=_("Twelve letters and numbers, like ABCD-EFGH-JKMN."),
        error_messages={"required": _("Please type in the code from your gift.")},
    )
    email = forms.CharField(
        label=_("Your email address"),
        required=False,
        max_length=254,
        help_text=_("We'll email you a link to start your membership, to check it's yours."),
        widget=forms.EmailInput(attrs={"autocomplete": "email", "maxlength": 254}),
    )

    def __init__(self, *args: Any, needs_email: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.needs_email = needs_email
        if not needs_email:
            del self.fields["email"]

    def clean_code(self) -> str:
        code = normalise_code(self.cleaned_data["code"])
        if len(code) != CODE_LENGTH:
            raise ValidationError(_("A gift code has twelve letters and numbers."), code="length")
        return code

    def clean_email(self) -> str:
        email: str = self.cleaned_data.get("email") or ""
        if not email:
            raise ValidationError(_("Please enter your email address."), code="required")
        return normalise_email(email)
