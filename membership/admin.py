import json
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from membership import access, counts, webhooks
from membership.models import Drive, Member, Membership, Plan, StripeEvent
from newsletters.addresses import normalise_email


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin[Plan]):
    list_display = ["name", "price_label", "stripe_price_id", "is_active", "grace_days", "position"]
    list_filter = ["is_active", "interval"]
    search_fields = ["name", "stripe_price_id"]

    @admin.display(description=_("price"))
    def price_label(self, plan: Plan) -> str:
        return plan.price_label


class MembershipInline(admin.TabularInline[Membership, Member]):
    model = Membership
    extra = 0
    can_delete = False
    show_change_link = True
    fields = readonly_fields = (
        "source",
        "status",
        "plan",
        "started_at",
        "current_period_end",
        "cancel_at_period_end",
    )

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin[Member]):
    list_display = ["email", "stripe_customer_id", "created_at"]
    search_fields = ["email", "=stripe_customer_id"]
    readonly_fields = ["created_at"]
    inlines = [MembershipInline]


class GrantForm(forms.ModelForm[Membership]):
    """A complimentary membership, given by staff to an address, with or without an end."""

    email = forms.CharField(label=_("Member's email address"), max_length=254)

    class Meta:
        model = Membership
        fields = ["current_period_end", "note"]
        labels = {"current_period_end": _("Ends (leave empty for no end)")}

    def clean_email(self) -> str:
        return normalise_email(self.cleaned_data["email"])

    def clean_current_period_end(self) -> Any:
        ends = self.cleaned_data["current_period_end"]
        if ends and ends <= timezone.now():
            raise forms.ValidationError(_("Choose a time in the future, or leave it empty."))
        return ends


MEMBERSHIP_FIELDS = [
    "member",
    "source",
    "status",
    "plan",
    "started_at",
    "current_period_end",
    "cancel_at_period_end",
    "ended_at",
    "past_due_since",
    "last_paid_at",
    "stripe_subscription_id",
    "checkout_session_id",
    "stripe_event_at",
    "welcomed_at",
    "granted_by",
    "note",
]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin[Membership]):
    list_display = [
        "member",
        "source",
        "status",
        "plan",
        "started_at",
        "current_period_end",
        "cancel_at_period_end",
    ]
    list_filter = ["status", "source", "plan"]
    list_select_related = ["member", "plan"]
    search_fields = ["member__email", "=stripe_subscription_id"]
    date_hierarchy = "started_at"
    actions = ["end_now"]

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            kwargs["form"] = GrantForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ["email", "current_period_end", "note"]
        return MEMBERSHIP_FIELDS

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return []
        # A paid membership mirrors Stripe: change it there (or in the portal), not here.
        editable = (
            {"note"} if obj.source == Membership.Source.PAID else {"current_period_end", "note"}
        )
        return [field for field in MEMBERSHIP_FIELDS if field not in editable]

    def save_model(self, request: HttpRequest, obj: Membership, form: Any, change: bool) -> None:
        if not change:
            obj.member = Member.objects.get_or_create_for_email(form.cleaned_data["email"])
            obj.source = Membership.Source.COMPLIMENTARY
            obj.status = Membership.Status.ACTIVE
            obj.started_at = timezone.now()
            obj.granted_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)
        access.sync(obj.member)

    @admin.action(description=_("End the selected complimentary or gift memberships now"))
    def end_now(self, request: HttpRequest, queryset: QuerySet[Membership]) -> None:
        ended = 0
        for membership in queryset.exclude(source=Membership.Source.PAID).select_related("member"):
            if membership.end(timezone.now()):
                access.sync(membership.member)
                ended += 1
        skipped = queryset.count() - ended
        self.message_user(request, _("Ended %(n)d memberships.") % {"n": ended})
        if skipped:
            self.message_user(
                request,
                _("Left %(n)d alone: paid ones end in Stripe; others had ended already.")
                % {"n": skipped},
                messages.WARNING,
            )


@admin.register(Drive)
class DriveAdmin(admin.ModelAdmin[Drive]):
    list_display = ["title", "goal", "starts_at", "ends_at", "progress"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["embedding"]

    @admin.display(description=_("progress"))
    def progress(self, drive: Drive) -> str:
        return counts.drive_progress(drive).label

    @admin.display(description=_("embed on the newsroom's pages"))
    def embedding(self, drive: Drive) -> str:
        if not drive.pk:
            return "-"
        widget = settings.SITE_URL + reverse("membership:drive_widget", args=[drive.slug])
        api = settings.SITE_URL + reverse("membership:drive_json", args=[drive.slug])
        return format_html(
            "<code>&lt;iframe src=&quot;{}&quot; title=&quot;{}&quot;&gt;&lt;/iframe&gt;</code>"
            "<br>JSON: <code>{}</code>",
            widget,
            drive.title,
            api,
        )


@admin.register(StripeEvent)
class StripeEventAdmin(admin.ModelAdmin[StripeEvent]):
    list_display = ["stripe_id", "type", "status", "created_at", "attempts", "outcome"]
    list_filter = ["status", "type"]
    search_fields = ["=stripe_id", "=object_id"]
    show_full_result_count = False
    actions = ["replay"]
    fields = readonly_fields = (
        "stripe_id",
        "type",
        "object_id",
        "status",
        "outcome",
        "error",
        "attempts",
        "created_at",
        "received_at",
        "processed_at",
        "livemode",
        "pretty_payload",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description=_("payload"))
    def pretty_payload(self, event: StripeEvent) -> str:
        return format_html("<pre>{}</pre>", json.dumps(event.payload, indent=2, sort_keys=True))

    @admin.action(description=_("Replay the selected failed events"), permissions=["change"])
    def replay(self, request: HttpRequest, queryset: QuerySet[StripeEvent]) -> None:
        outcomes = {"processed": 0, "failed": 0, "skipped": 0}
        for event_id in queryset.values_list("pk", flat=True):
            event, ran = webhooks.replay(event_id)
            if not ran:
                outcomes["skipped"] += 1
            elif event.status == StripeEvent.Status.FAILED:
                outcomes["failed"] += 1
            else:
                outcomes["processed"] += 1
        self.message_user(
            request,
            _("Replayed: %(processed)d handled, %(failed)d failed again, %(skipped)d not failed.")
            % outcomes,
            messages.ERROR if outcomes["failed"] else messages.SUCCESS,
        )


# Gifts and the supporter count have their own module; importing it registers them.
from membership import gift_admin  # noqa: E402, F401
