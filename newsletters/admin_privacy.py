"""Staff actions on subscribers for privacy requests: export everything held, or erase it.

Kept apart from admin.py so the Subscriber admin only has to list them in its actions.
"""

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from newsletters import privacy
from newsletters.models import Subscriber

MAX_EXPORT = 100


@admin.action(description=_("Export everything held on them (JSON)"), permissions=["view"])
def export_as_json(
    modeladmin: admin.ModelAdmin[Subscriber], request: HttpRequest, queryset: QuerySet[Subscriber]
) -> HttpResponse | None:
    """One subscriber gives one JSON object, several a list of them."""
    subscribers = list(queryset.order_by("pk")[: MAX_EXPORT + 1])
    if len(subscribers) > MAX_EXPORT:
        modeladmin.message_user(
            request,
            _("Export at most %(limit)d subscribers at a time.") % {"limit": MAX_EXPORT},
            messages.ERROR,
        )
        return None
    exports = [privacy.export_subscriber(subscriber) for subscriber in subscribers]
    single = len(exports) == 1
    response = JsonResponse(
        exports[0] if single else exports,
        safe=False,
        json_dumps_params={"indent": 2, "ensure_ascii": False},
    )
    filename = f"subscriber-{subscribers[0].pk}.json" if single else "subscribers.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@admin.action(
    description=_("Erase them (keep only a hashed suppression entry)"), permissions=["delete"]
)
def erase_subscribers(
    modeladmin: admin.ModelAdmin[Subscriber], request: HttpRequest, queryset: QuerySet[Subscriber]
) -> HttpResponse | None:
    """Ask first, as Django's own delete action does; erase on the confirming POST."""
    if request.POST.get("confirm_erase") == "yes":
        erased = 0
        for subscriber in queryset:
            privacy.erase_subscriber(subscriber, erased_by=request.user.get_username())
            erased += 1
        modeladmin.message_user(
            request,
            ngettext(
                "Erased %(count)d subscriber; only a hashed suppression entry is kept.",
                "Erased %(count)d subscribers; only hashed suppression entries are kept.",
                erased,
            )
            % {"count": erased},
            messages.SUCCESS,
        )
        return None
    context: dict[str, Any] = {
        **modeladmin.admin_site.each_context(request),
        "title": _("Erase these subscribers?"),
        "opts": modeladmin.model._meta,
        "queryset": queryset,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "action_name": "erase_subscribers",
    }
    return TemplateResponse(
        request, "admin/newsletters/subscriber/erase_confirmation.html", context
    )
