from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from newsletters.importing import formats, reader
from newsletters.models import Newsletter, SubscriberImport, Subscription


class ImportForm(forms.ModelForm[SubscriberImport]):
    """Upload a CSV, choose its lists and say how the readers in it gave consent."""

    newsletters = forms.ModelMultipleChoiceField(
        label=_("Lists to add the readers to"),
        queryset=Newsletter.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one list.")},
    )
    consent_basis = forms.ChoiceField(
        label=_("How consent was given"),
        choices=SubscriberImport.Basis.choices,
        widget=forms.RadioSelect,
        help_text=_(
            "“Confirmed elsewhere”: the readers already confirmed with the service this file "
            "comes from; its opt-in and confirmation columns become their consent record, and "
            "rows without them are left out. “Needs confirmation”: each reader is emailed a "
            "confirmation link, a few at a time, and joins only by clicking it."
        ),
    )

    class Meta:
        model = SubscriberImport
        fields = ["file", "newsletters", "consent_basis", "consent_note"]
        labels = {"file": _("CSV file"), "consent_note": _("How the readers gave consent")}
        help_texts = {
            "file": _(
                "A Mailchimp, Substack or Ghost export, or a plain list with an “email” column."
            ),
            "consent_note": _(
                "Kept in each reader's consent record, e.g. “Double opt-in on our Mailchimp "
                "form, 2019 to 2025”."
            ),
        }

    layout: formats.Layout | None = None

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        limit = settings.IMPORT_MAX_UPLOAD_MB * 1024 * 1024
        if upload.size > limit:
            raise ValidationError(
                _("This file is larger than %(limit)s. Import it from the command line."),
                params={"limit": filesizeformat(limit)},
                code="too_large",
            )
        upload.seek(0)
        try:
            self.layout, _first, _start = reader.read_layout(upload.file)
        except formats.UnknownFormat as exc:
            raise ValidationError(str(exc), code="unknown_format") from None
        finally:
            upload.seek(0)
        return upload

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        basis = cleaned.get("consent_basis")
        if (
            self.layout is not None
            and basis == SubscriberImport.Basis.CONFIRMED_ELSEWHERE
            and not self.layout.has_consent_columns
        ):
            self.add_error(
                "consent_basis",
                ValidationError(
                    _(
                        "This file (%(format)s) has no opt-in or confirmation times, so "
                        "nothing in it shows that its readers confirmed. Choose “needs "
                        "confirmation” to ask them."
                    ),
                    params={"format": self.layout.label},
                    code="no_consent_columns",
                ),
            )
        return cleaned


class ChooseListsForm(forms.Form):
    """The second step of "unsubscribe from a list": which lists."""

    newsletters = forms.ModelMultipleChoiceField(
        label=_("Lists to unsubscribe the selected readers from"),
        queryset=Newsletter.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one list.")},
    )


class ExportForm(forms.Form):
    newsletter = forms.ModelChoiceField(
        label=_("List"),
        queryset=Newsletter.objects.all(),
        to_field_name="slug",
        required=False,
        empty_label=_("All lists"),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[("", _("Any status")), *Subscription.Status.choices],
        required=False,
    )
