"""Admin pages beyond the model forms: import progress and downloads, exports, growth."""

from datetime import timedelta
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    JsonResponse,
)
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from newsletters import exports
from newsletters.models import Newsletter, SubscriberImport, Subscription
from newsletters.staff.charts import WINDOWS, growth_chart
from newsletters.staff.forms import ExportForm


def progress_payload(run: SubscriberImport) -> dict[str, Any]:
    """What the progress bar shows: the JSON endpoint's answer and the page's first state."""
    report_url = (
        reverse("admin:newsletters_subscriberimport_report", args=[run.pk])
        if run.status == SubscriberImport.Status.DONE
        else None
    )
    return {
        "status": run.status,
        "status_label": str(run.get_status_display()),
        "percent": run.percent,
        "finished": run.is_finished,
        "rows": number_format(run.rows_read, force_grouping=True),
        "added": number_format(run.added, force_grouping=True),
        "updated": number_format(run.updated, force_grouping=True),
        "skipped": number_format(run.skipped, force_grouping=True),
        "error": run.error,
        "report_url": report_url,
    }


@never_cache
def import_progress(request: HttpRequest, modeladmin: Any, object_id: str) -> JsonResponse:
    run = _viewable_run(request, modeladmin, object_id)
    return JsonResponse(progress_payload(run))


def import_report(request: HttpRequest, modeladmin: Any, object_id: str) -> FileResponse:
    run = _viewable_run(request, modeladmin, object_id)
    if run.status != SubscriberImport.Status.DONE or not run.report:
        raise Http404(_("The report is ready when the import is done."))
    name = f"{Path(run.original_name).stem}-report.csv"
    return _download(run.report.name, name)


def import_file(request: HttpRequest, modeladmin: Any, object_id: str) -> FileResponse:
    run = _viewable_run(request, modeladmin, object_id)
    return _download(run.file.name, run.original_name)


def _viewable_run(request: HttpRequest, modeladmin: Any, object_id: str) -> SubscriberImport:
    run = get_object_or_404(SubscriberImport, pk=object_id)
    if not modeladmin.has_view_permission(request, run):
        raise PermissionDenied
    return run


def _download(stored_name: str, filename: str) -> FileResponse:
    if not default_storage.exists(stored_name):
        raise Http404(_("The file is no longer stored."))
    response = FileResponse(
        default_storage.open(stored_name, "rb"),
        as_attachment=True,
        filename=filename,
        content_type="text/csv",
    )
    response["Cache-Control"] = "no-store"
    return response


def export_subscribers(request: HttpRequest, modeladmin: Any) -> HttpResponseBase:
    """Choose a list and status, then download them as a streamed CSV."""
    if not modeladmin.has_export_permission(request):
        raise PermissionDenied
    form = ExportForm(request.GET or None)
    if request.GET.get("download") and form.is_valid():
        subscriptions = Subscription.objects.all()
        newsletter = form.cleaned_data["newsletter"]
        status = form.cleaned_data["status"]
        if newsletter is not None:
            subscriptions = subscriptions.filter(newsletter=newsletter)
        if status:
            subscriptions = subscriptions.filter(status=status)
        stamp = timezone.now().strftime("%Y%m%d-%H%M")
        name = f"subscribers-{newsletter.slug if newsletter else 'all'}-{status or 'any'}-{stamp}"
        return exports.csv_response(exports.rows(subscriptions), f"{name}.csv")
    context = {
        **modeladmin.admin_site.each_context(request),
        "opts": modeladmin.model._meta,
        "title": _("Export subscribers"),
        "form": form,
    }
    return TemplateResponse(request, "admin/newsletters/subscriber/export.html", context)


def growth(request: HttpRequest, modeladmin: Any, object_id: str) -> HttpResponse:
    newsletter = get_object_or_404(Newsletter, pk=object_id)
    if not modeladmin.has_view_permission(request, newsletter):
        raise PermissionDenied
    try:
        days = int(request.GET.get("days", 90))
    except ValueError:
        days = 90
    if days not in WINDOWS:
        days = 90
    today = timezone.localdate()
    chart = growth_chart(newsletter, days, today)
    context = {
        **modeladmin.admin_site.each_context(request),
        "opts": modeladmin.model._meta,
        "original": newsletter,
        "title": _("Growth of %(name)s") % {"name": newsletter.name},
        "chart": chart,
        "windows": WINDOWS,
        "days": days,
        "since": today - timedelta(days=days - 1),
        "newsletters": Newsletter.objects.all(),
    }
    return TemplateResponse(request, "admin/newsletters/newsletter/growth.html", context)
