"""Editions in the admin: write, preview, test, send or schedule, and watch the send.

Each staff action is a small POST view: validate a form, make one call into
newsletters.editions (or emails), report with message_user, and go back to the edition.
"""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST

from newsletters import editions, emails
from newsletters.edition_delivery import render
from newsletters.edition_events import COUNTS
from newsletters.models import Edition, Subscription

# The email document shown inside the preview frame: styles as mail apps see them, no script.
PREVIEW_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: http: data:; "
    "frame-ancestors 'self'; sandbox allow-popups allow-popups-to-escape-sandbox"
)


COUNT_LABELS = {
    "delivered": _("Delivered"),
    "opened": _("Opened"),
    "clicked": _("Clicked"),
    "bounced": _("Bounced"),
    "complained": _("Marked as spam"),
    "unsubscribed": _("Unsubscribed"),
}


class ScheduleForm(forms.Form):
    send_at = forms.DateTimeField(
        label=_("Send at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("In the newsroom's time zone (%(zone)s).")
        % {"zone": timezone.get_default_timezone_name()},
    )

    def clean_send_at(self) -> Any:
        when = self.cleaned_data["send_at"]
        if when <= timezone.now():
            raise forms.ValidationError(_("Choose a time in the future, or send it now."))
        return when


class TestSendForm(forms.Form):
    to = forms.EmailField(label=_("Send a test to"))


def _preview_url(request: HttpRequest) -> str:
    # Staff are not readers: the footer links in a preview go to the "email me my link" page.
    return request.build_absolute_uri(reverse("newsletters:request_link"))


@admin.register(Edition)
class EditionAdmin(admin.ModelAdmin[Edition]):
    list_display = ["subject", "newsletter", "status", "when", "progress", "opened", "clicked"]
    list_filter = ["status", "newsletter"]
    list_select_related = ["newsletter"]
    search_fields = ["subject"]
    date_hierarchy = "created_at"
    fields = ["newsletter", "subject", "preheader", "html_body", "text_body", "in_archive"]
    change_form_template = "admin/newsletters/edition/change_form.html"

    class Media:
        js = ["edition_progress.js"]
        css = {"all": ["edition_admin.css"]}

    @admin.display(description=_("sent or scheduled"))
    def when(self, edition: Edition) -> Any:
        return edition.started_at or edition.send_at

    @admin.display(description=_("progress"))
    def progress(self, edition: Edition) -> str:
        if edition.status in {Edition.Status.DRAFT, Edition.Status.SCHEDULED}:
            return "-"
        return f"{edition.handled:,} / {edition.recipients:,}"

    def get_readonly_fields(self, request: HttpRequest, obj: Edition | None = None) -> Any:
        if obj is not None and not obj.is_editable:
            return self.fields  # what went out stays as it went out
        return []

    def has_delete_permission(self, request: HttpRequest, obj: Edition | None = None) -> bool:
        if obj is not None and obj.status in {Edition.Status.SENDING, Edition.Status.SENT}:
            return False
        return super().has_delete_permission(request, obj)

    def get_urls(self) -> list[URLPattern]:
        def view(function: Any, name: str, route: str) -> URLPattern:
            return path(
                f"<int:pk>/{route}",
                self.admin_site.admin_view(function),
                name=f"newsletters_edition_{name}",
            )

        return [
            view(self.preview_view, "preview", "preview/"),
            view(self.preview_email_view, "preview_email", "preview/email/"),
            view(self.test_view, "test", "test/"),
            view(self.send_view, "send", "send/"),
            view(self.schedule_view, "schedule", "schedule/"),
            view(self.cancel_view, "cancel", "cancel/"),
            view(self.progress_view, "progress", "progress/"),
            *super().get_urls(),
        ]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        edition = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if edition is not None:
            extra.update(self._panel(request, edition))
            if not edition.is_editable:
                extra.update(
                    show_save=False,
                    show_save_and_continue=False,
                    show_save_and_add_another=False,
                )
        return super().change_view(request, object_id, form_url, extra)

    def _panel(self, request: HttpRequest, edition: Edition) -> dict[str, Any]:
        readers = 0
        if edition.is_editable:
            readers = Subscription.objects.filter(
                newsletter_id=edition.newsletter_id, status=Subscription.Status.ACTIVE
            ).count()
        user_email = getattr(request.user, "email", "")
        return {
            "edition": edition,
            "readers": readers,
            "schedule_form": ScheduleForm(initial={"send_at": edition.send_at}),
            "test_form": TestSendForm(initial={"to": user_email}),
            "counts": self._counts(edition),
        }

    def _counts(self, edition: Edition) -> list[tuple[str, Any, int, int]]:
        """Each tracked count with its label and its share of the messages sent, in percent."""
        return [
            (
                name,
                COUNT_LABELS[name],
                getattr(edition, name),
                getattr(edition, name) * 100 // max(edition.sent, 1),
            )
            for name in COUNTS
        ]

    def _edition(self, request: HttpRequest, pk: int, change: bool = False) -> Edition:
        edition = get_object_or_404(Edition.objects.select_related("newsletter"), pk=pk)
        allowed = (
            self.has_change_permission(request, edition)
            if change
            else self.has_view_permission(request, edition)
        )
        if not allowed:
            raise PermissionDenied
        return edition

    def _back(self, edition: Edition) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:newsletters_edition_change", args=[edition.pk]))

    def preview_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        edition = self._edition(request, pk)
        rendered = render(edition, lambda name: _preview_url(request))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Preview: %(subject)s") % {"subject": edition.subject},
            "opts": self.model._meta,
            "original": edition,
            "edition": edition,
            "subject": rendered.subject,
            "text": rendered.text,
        }
        return TemplateResponse(request, "admin/newsletters/edition/preview.html", context)

    @method_decorator(xframe_options_sameorigin)
    def preview_email_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        edition = self._edition(request, pk)
        rendered = render(edition, lambda name: _preview_url(request))
        response = HttpResponse(rendered.html)
        response["Content-Security-Policy"] = PREVIEW_POLICY
        return response

    def progress_view(self, request: HttpRequest, pk: int) -> JsonResponse:
        edition = self._edition(request, pk)
        data: dict[str, Any] = {
            "status": edition.status,
            "status_label": str(edition.get_status_display()),
            "recipients": edition.recipients,
            "sent": edition.sent,
            "skipped": edition.skipped,
            "failed": edition.failed,
            "handled": edition.handled,
            "percent": edition.progress_percent,
        }
        data.update({name: getattr(edition, name) for name in COUNTS})
        return JsonResponse(data, headers={"Cache-Control": "no-store"})

    @method_decorator(require_POST)
    def test_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        edition = self._edition(request, pk, change=True)
        form = TestSendForm(request.POST)
        if not form.is_valid():
            self.message_user(request, _("Please enter a valid email address."), messages.ERROR)
            return self._back(edition)
        emails.edition_test(edition, form.cleaned_data["to"])
        self.message_user(
            request,
            _("A test is on its way to %(to)s.") % {"to": form.cleaned_data["to"]},
            messages.SUCCESS,
        )
        return self._back(edition)

    @method_decorator(require_POST)
    def send_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        edition = self._edition(request, pk, change=True)
        try:
            editions.send_now(edition)
        except editions.NotAllowed:
            self.message_user(request, _("This edition has already been sent."), messages.ERROR)
        else:
            self.message_user(request, _("Sending has started."), messages.SUCCESS)
        return self._back(edition)

    @method_decorator(require_POST)
    def schedule_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        edition = self._edition(request, pk, change=True)
        form = ScheduleForm(request.POST)
        if not form.is_valid():
            for error in form.errors.get("send_at", []):
                self.message_user(request, str(error), messages.ERROR)
            return self._back(edition)
        try:
            editions.schedule(edition, form.cleaned_data["send_at"])
        except editions.NotAllowed:
            self.message_user(request, _("This edition has already been sent."), messages.ERROR)
        else:
            when = timezone.localtime(form.cleaned_data["send_at"])
            self.message_user(
                request,
                _("Scheduled for %(when)s.") % {"when": when.strftime("%Y-%m-%d %H:%M %Z")},
                messages.SUCCESS,
            )
        return self._back(edition)

    @method_decorator(require_POST)
    def cancel_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        edition = self._edition(request, pk, change=True)
        try:
            editions.cancel(edition)
        except editions.NotAllowed:
            self.message_user(
                request, _("Only a scheduled edition can be cancelled."), messages.ERROR
            )
        else:
            self.message_user(
                request, _("The schedule is cancelled; the edition is a draft again.")
            )
        return self._back(edition)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Edition]:
        return super().get_queryset(request).select_related("newsletter")
