"""Drive progress and the supporter count, for the newsroom's pages: iframes and JSON."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from config.security import framable_by_newsroom
from membership import counts
from membership.models import Drive


def _cache_briefly(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = f"public, max-age={settings.MEMBERSHIP_COUNTS_CACHE_SECONDS}"
    return response


def _framed(response: HttpResponse) -> HttpResponse:
    """Let the configured newsroom sites (only) show this page in an iframe."""
    framable_by_newsroom(response)
    return _cache_briefly(response)


@require_GET
def drive_widget(request: HttpRequest, slug: str) -> HttpResponse:
    drive = get_object_or_404(Drive, slug=slug)
    progress = counts.drive_progress(drive)
    return _framed(render(request, "membership/drive_widget.html", {"progress": progress}))


@require_GET
def drive_json(request: HttpRequest, slug: str) -> HttpResponse:
    """GET /api/v1/drives/<slug>: the drive's goal, exact count, days left and a label."""
    drive = Drive.objects.filter(slug=slug).first()
    if drive is None:
        return JsonResponse({"message": _("There is no drive called “%s”.") % slug}, status=404)
    return _cache_briefly(JsonResponse(counts.drive_progress(drive).as_json()))


@require_GET
def supporters_widget(request: HttpRequest) -> HttpResponse:
    count = counts.supporter_count()
    context = {"count": count, "label": counts.supporters_label(count)}
    return _framed(render(request, "membership/supporters_widget.html", context))


@require_GET
def supporters_json(request: HttpRequest) -> HttpResponse:
    """GET /api/v1/supporters: members with a membership that gives access now."""
    count = counts.supporter_count()
    return _cache_briefly(JsonResponse({"count": count, "label": counts.supporters_label(count)}))
