from pathlib import Path
from typing import Any, cast

from django.contrib import admin, messages
from django.db.models import Min, Prefetch, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.loader import render_to_string
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from config.celery import publish_on_commit
from newsletters import (
    admin_editions,  # noqa: F401 - registers the Edition admin
    tasks,
)
from newsletters.admin_privacy import erase_subscribers, export_as_json
from newsletters.importing.formats import LABELS
from newsletters.models import (
    ConsentEvent,
    ListStats,
    Newsletter,
    OutboundEmail,
    Subscriber,
    SubscriberImport,
    Subscription,
)
from newsletters.models.subscriber import SubscriberQuerySet
from newsletters.staff import actions, views
from newsletters.staff.filters import NewsletterFilter, SourceFilter, StatusFilter
from newsletters.staff.forms import ImportForm
from newsletters.staff.pagination import EstimatedCountPaginator


@admin.register(Newsletter)
class NewsletterAdmin(admin.ModelAdmin[Newsletter]):
    list_display = [
        "name",
        "slug",
        "is_public",
        "audience",
        "position",
        "active_count",
        "pending_count",
        "unsubscribed_count",
        "growth_link",
    ]
    list_editable = ["is_public", "audience", "position"]
    list_select_related = ["stats"]
    prepopulated_fields = {"slug": ["name"]}
    actions = ["recount"]

    @admin.display(description=_("active"))
    def active_count(self, obj: Newsletter) -> int | None:
        return self._stats(obj, "active")

    @admin.display(description=_("pending"))
    def pending_count(self, obj: Newsletter) -> int | None:
        return self._stats(obj, "pending")

    @admin.display(description=_("unsubscribed"))
    def unsubscribed_count(self, obj: Newsletter) -> int | None:
        return self._stats(obj, "unsubscribed")

    @staticmethod
    def _stats(obj: Newsletter, field: str) -> int | None:
        stats = getattr(obj, "stats", None)
        return getattr(stats, field) if stats is not None else None

    @admin.display(description=_("growth"))
    def growth_link(self, obj: Newsletter) -> str:
        url = reverse("admin:newsletters_newsletter_growth", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Chart"))

    @admin.action(description=_("Recount subscribers now"), permissions=["view"])
    def recount(self, request: HttpRequest, queryset: QuerySet[Newsletter]) -> None:
        ListStats.objects.refresh()
        self.message_user(request, _("The counts are up to date."), messages.SUCCESS)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        counted = ListStats.objects.aggregate(at=Min("counted_at"))["at"]
        return super().changelist_view(request, {**(extra_context or {}), "counted_at": counted})

    def get_urls(self) -> list[URLPattern]:
        growth = self.admin_site.admin_view(
            lambda request, object_id: views.growth(request, self, object_id)
        )
        return [
            path("<path:object_id>/growth/", growth, name="newsletters_newsletter_growth"),
            *super().get_urls(),
        ]


class SubscriptionInline(admin.TabularInline[Subscription, Subscriber]):
    model = Subscription
    extra = 0
    can_delete = False
    fields = readonly_fields = (
        "newsletter",
        "status",
        "requested_at",
        "confirmed_at",
        "unsubscribed_at",
    )

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ConsentEventInline(admin.TabularInline[ConsentEvent, Subscriber]):
    model = ConsentEvent
    extra = 0
    can_delete = False
    verbose_name_plural = _("consent ledger")
    fields = readonly_fields = (
        "at",
        "action",
        "newsletter",
        "source",
        "source_detail",
        "ip",
        "wording_version",
    )

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin[Subscriber]):
    list_display = ["email", "lists", "source", "created_at"]
    list_filter = [
        NewsletterFilter,
        StatusFilter,
        SourceFilter,
        ("created_at", admin.DateFieldListFilter),
    ]
    search_fields = ["email"]
    search_help_text = _("A whole address, or the beginning of one.")
    # Counting a million rows for every page is what makes admin lists slow.
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 50
    ordering = ["-pk"]
    sortable_by = ()
    fields = ("email", "source", "created_at", "updated_at")
    readonly_fields = ("email", "source", "created_at", "updated_at")
    inlines = [SubscriptionInline, ConsentEventInline]
    actions = [
        actions.resend_confirmation,
        actions.unsubscribe_from_lists,
        actions.suppress,
        actions.export_selection,
        export_as_json,
        erase_subscribers,
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Subscriber]:
        return (
            super()
            .get_queryset(request)
            .prefetch_related(
                Prefetch(
                    "subscriptions",
                    queryset=Subscription.objects.select_related("newsletter").order_by(
                        "newsletter__position", "newsletter__name"
                    ),
                )
            )
        )

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Subscriber], search_term: str
    ) -> tuple[QuerySet[Subscriber], bool]:
        """Match a whole address or its beginning, through the index on lower(email)."""
        if not search_term.strip():
            return queryset, False
        return cast(SubscriberQuerySet, queryset).matching(search_term), False

    @admin.display(description=_("lists"))
    def lists(self, obj: Subscriber) -> str:
        return format_html_join(
            ", ",
            "{} ({})",
            ((s.newsletter.name, s.get_status_display()) for s in obj.subscriptions.all()),
        )

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        found = super().get_actions(request)
        # Removing readers is erasure, with its own workflow; a bulk delete would skip it.
        found.pop("delete_selected", None)
        return found

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Readers arrive through a form or an import, each with its proof of consent.
        return False

    def has_export_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("newsletters.export_subscribers")

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        context = {
            **(extra_context or {}),
            "can_export": self.has_export_permission(request),
            "can_import": request.user.has_perm("newsletters.add_subscriberimport"),
        }
        return super().changelist_view(request, context)

    def get_urls(self) -> list[URLPattern]:
        export = self.admin_site.admin_view(lambda request: views.export_subscribers(request, self))
        return [
            path("export/", export, name="newsletters_subscriber_export"),
            *super().get_urls(),
        ]


@admin.register(SubscriberImport)
class SubscriberImportAdmin(admin.ModelAdmin[SubscriberImport]):
    list_display = [
        "original_name",
        "format_label",
        "consent_basis",
        "status",
        "progress_percent",
        "added",
        "updated",
        "skipped",
        "created_by",
        "created_at",
    ]
    list_filter = ["status", "consent_basis"]
    list_select_related = ["created_by"]
    change_form_template = "admin/newsletters/subscriberimport/change_form.html"
    readonly_fields = [
        "progress",
        "original",
        "format_label",
        "lists",
        "consent_basis",
        "consent_note",
        "created_by",
        "created_at",
        "started_at",
        "finished_at",
    ]

    class Media:
        js = ["staff/import-progress.js"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ["file", "newsletters", "consent_basis", "consent_note"]
        return list(self.readonly_fields)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return list(self.readonly_fields) if obj is not None else []

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> type[ModelForm[SubscriberImport]]:
        if obj is None:
            kwargs["form"] = ImportForm
        return super().get_form(request, obj, change, **kwargs)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a run is a record: it is watched, never edited

    def save_model(
        self, request: HttpRequest, obj: SubscriberImport, form: Any, change: bool
    ) -> None:
        upload = form.cleaned_data["file"]
        obj.created_by = request.user if request.user.is_authenticated else None
        obj.original_name = Path(upload.name).name[:255]
        obj.file_size = upload.size
        obj.format = form.layout.format
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        publish_on_commit(tasks.run_import, form.instance.pk)

    def response_add(
        self, request: HttpRequest, obj: SubscriberImport, post_url_continue: str | None = None
    ) -> HttpResponse:
        self.message_user(
            request,
            _("The import has started. This page shows its progress."),
            messages.SUCCESS,
        )
        return HttpResponseRedirect(
            reverse("admin:newsletters_subscriberimport_change", args=[obj.pk])
        )

    @admin.display(description=_("format"))
    def format_label(self, obj: SubscriberImport) -> str:
        return str(LABELS.get(obj.format, obj.format or "—"))

    @admin.display(description=_("progress"))
    def progress_percent(self, obj: SubscriberImport) -> str:
        return f"{obj.percent}%"

    @admin.display(description=_("lists"))
    def lists(self, obj: SubscriberImport) -> str:
        return ", ".join(n.name for n in obj.newsletters.all())

    @admin.display(description=_("file"))
    def original(self, obj: SubscriberImport) -> str:
        url = reverse("admin:newsletters_subscriberimport_file", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.original_name)

    @admin.display(description=_("progress"))
    def progress(self, obj: SubscriberImport) -> str:
        return render_to_string(
            "admin/newsletters/subscriberimport/progress.html",
            {
                "run": obj,
                "state": views.progress_payload(obj),
                "poll_url": reverse("admin:newsletters_subscriberimport_progress", args=[obj.pk]),
            },
        )

    def get_urls(self) -> list[URLPattern]:
        def wrap(view: Any) -> Any:
            return self.admin_site.admin_view(
                lambda request, object_id: view(request, self, object_id)
            )

        name = "newsletters_subscriberimport"
        return [
            path(
                "<path:object_id>/progress/", wrap(views.import_progress), name=f"{name}_progress"
            ),
            path("<path:object_id>/report/", wrap(views.import_report), name=f"{name}_report"),
            path("<path:object_id>/file/", wrap(views.import_file), name=f"{name}_file"),
            *super().get_urls(),
        ]


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin[OutboundEmail]):
    list_display = ["kind", "to", "status", "attempts", "created_at", "sent_at"]
    list_filter = ["status", "kind"]
    search_fields = ["to"]
    readonly_fields = [f.name for f in OutboundEmail._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
