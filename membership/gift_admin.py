"""Staff: gift prices, purchases with their gifts, gifts (filters, resend, revoke, refund), and
what the supporter count counts. Registered by admin.py.
"""

from typing import Any

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from membership import emails, gateway, gift_delivery, gift_refunds
from membership.models import Gift, GiftPrice, GiftPurchase, SupporterCount


@admin.register(GiftPrice)
class GiftPriceAdmin(admin.ModelAdmin[GiftPrice]):
    list_display = ["months", "price_label", "currency", "is_active"]
    list_filter = ["is_active"]

    @admin.display(description=_("price"))
    def price_label(self, price: GiftPrice) -> str:
        return price.price_label


GIFT_FIELDS = (
    "purchase",
    "status",
    "months",
    "amount",
    "currency",
    "recipient_name",
    "recipient_email",
    "has_message",
    "deliver_on",
    "deliver_at",
    "link_sent_to",
    "delivered_at",
    "last_sent_at",
    "expires_at",
    "redeemed_at",
    "redeemed_by",
    "redemption",
    "membership",
    "covers_from",
    "covers_to",
    "refund_requested_at",
    "revoked_at",
    "revoke_reason",
    "created_at",
)


class GiftInline(admin.TabularInline[Gift, GiftPurchase]):
    model = Gift
    extra = 0
    can_delete = False
    show_change_link = True
    fields = readonly_fields = (
        "months",
        "amount",
        "recipient_email",
        "status",
        "deliver_on",
        "delivered_at",
        "redeemed_at",
        "expires_at",
    )

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(GiftPurchase)
class GiftPurchaseAdmin(admin.ModelAdmin[GiftPurchase]):
    list_display = ["pk", "buyer_email", "status", "total", "gift_count", "created_at", "paid_at"]
    list_filter = ["status"]
    search_fields = ["buyer_email", "=checkout_session_id", "=payment_intent_id"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    inlines = [GiftInline]
    actions = ["resend_receipt"]
    fields = readonly_fields = (
        "buyer_name",
        "buyer_email",
        "status",
        "amount_total",
        "currency",
        "amount_refunded",
        "language",
        "checkout_session_id",
        "payment_intent_id",
        "created_at",
        "paid_at",
        "failed_at",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[GiftPurchase]:
        return super().get_queryset(request).annotate(gift_total=Count("gifts"))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description=_("total"))
    def total(self, purchase: GiftPurchase) -> str:
        return purchase.total_label

    @admin.display(description=_("gifts"), ordering="gift_total")
    def gift_count(self, purchase: GiftPurchase) -> int:
        return int(getattr(purchase, "gift_total", 0))

    @admin.action(description=_("Email the buyers their receipts again"), permissions=["change"])
    def resend_receipt(self, request: HttpRequest, queryset: QuerySet[GiftPurchase]) -> None:
        sent = 0
        for purchase in queryset.filter(status=GiftPurchase.Status.PAID):
            with transaction.atomic():
                emails.gift_receipt(purchase, list(purchase.gifts.all()))
            sent += 1
        self.message_user(
            request, _("Sent %(n)d receipts (unpaid purchases have none).") % {"n": sent}
        )


@admin.register(Gift)
class GiftAdmin(admin.ModelAdmin[Gift]):
    list_display = [
        "pk",
        "recipient_email",
        "months",
        "status",
        "deliver_at",
        "delivered_at",
        "redeemed_at",
        "expires_at",
        "purchase_link",
    ]
    list_filter = ["status", "months", "redemption", "revoke_reason"]
    list_select_related = ["purchase"]
    search_fields = ["recipient_email", "purchase__buyer_email", "=purchase__payment_intent_id"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    actions = ["resend", "revoke", "refund"]
    fields = readonly_fields = GIFT_FIELDS

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description=_("personal message"), boolean=True)
    def has_message(self, gift: Gift) -> bool:
        # The message is for the recipient: staff see only that there is one.
        return bool(gift.message)

    @admin.display(description=_("purchase"), ordering="purchase")
    def purchase_link(self, gift: Gift) -> str:
        url = reverse("admin:membership_giftpurchase_change", args=[gift.purchase_id])
        return format_html('<a href="{}">{}</a>', url, gift.purchase.buyer_email)

    def _report(self, request: HttpRequest, done: int, skipped: int, done_text: object) -> None:
        self.message_user(request, str(done_text) % {"n": done})
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "Left %(n)d gift alone: it was not in a state for that.",
                    "Left %(n)d gifts alone: they were not in a state for that.",
                    skipped,
                )
                % {"n": skipped},
                messages.WARNING,
            )

    @admin.action(
        description=_("Send the gift email again (delivered gifts)"), permissions=["change"]
    )
    def resend(self, request: HttpRequest, queryset: QuerySet[Gift]) -> None:
        done = skipped = 0
        for gift in queryset:
            try:
                gift_delivery.resend(gift)
                done += 1
            except gift_delivery.NotChangeable:
                skipped += 1
        self._report(request, done, skipped, _("Sent %(n)d gift emails again."))

    @admin.action(
        description=_("Revoke: the link stops working, a redeemed gift's time is taken back"),
        permissions=["change"],
    )
    def revoke(self, request: HttpRequest, queryset: QuerySet[Gift]) -> None:
        done = skipped = 0
        for gift in queryset:
            with transaction.atomic():
                if gift_refunds.revoke(gift, Gift.RevokeReason.STAFF):
                    done += 1
                else:
                    skipped += 1
        self._report(request, done, skipped, _("Revoked %(n)d gifts. No money was refunded."))

    @admin.action(
        description=_("Refund through Stripe (the refund event then revokes the gift)"),
        permissions=["change"],
    )
    def refund(self, request: HttpRequest, queryset: QuerySet[Gift]) -> None:
        done = skipped = 0
        for gift in queryset:
            try:
                gift_refunds.request_refund(gift)
                done += 1
            except gift_refunds.NotRefundable:
                skipped += 1
            except gateway.PaymentsUnavailable as exc:
                self.message_user(
                    request, _("Stripe refused or could not be reached: %s") % exc, messages.ERROR
                )
                break
        self._report(request, done, skipped, _("Asked Stripe to refund %(n)d gifts."))


@admin.register(SupporterCount)
class SupporterCountAdmin(admin.ModelAdmin[SupporterCount]):
    list_display = ["__str__", "counts_paid", "counts_gift", "counts_complimentary"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not SupporterCount.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
