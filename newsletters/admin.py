from django.contrib import admin

from newsletters import admin_editions  # noqa: F401 - registers the Edition admin
from newsletters.admin_privacy import erase_subscribers, export_as_json
from newsletters.models import ConsentEvent, Newsletter, OutboundEmail, Subscriber, Subscription


@admin.register(Newsletter)
class NewsletterAdmin(admin.ModelAdmin[Newsletter]):
    list_display = ["name", "slug", "is_public", "audience", "position"]
    list_editable = ["position"]
    prepopulated_fields = {"slug": ["name"]}


class SubscriptionInline(admin.TabularInline[Subscription, Subscriber]):
    model = Subscription
    extra = 0
    fields = readonly_fields = (
        "newsletter",
        "status",
        "requested_at",
        "confirmed_at",
        "unsubscribed_at",
    )


class ConsentEventInline(admin.TabularInline[ConsentEvent, Subscriber]):
    model = ConsentEvent
    extra = 0
    can_delete = False
    fields = readonly_fields = (
        "at",
        "action",
        "newsletter",
        "source",
        "source_detail",
        "ip",
        "wording_version",
    )

    def has_add_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin[Subscriber]):
    list_display = ["email", "created_at"]
    search_fields = ["email"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [SubscriptionInline, ConsentEventInline]
    actions = [export_as_json, erase_subscribers]


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin[OutboundEmail]):
    list_display = ["kind", "to", "status", "attempts", "created_at", "sent_at"]
    list_filter = ["status", "kind"]
    search_fields = ["to"]
    readonly_fields = [f.name for f in OutboundEmail._meta.fields]

    def has_add_permission(self, request: object) -> bool:
        return False
