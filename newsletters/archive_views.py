"""The public archive of a list's past editions, for lists that are open to everyone."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.safestring import mark_safe

from newsletters.edition_html import clean_for_page
from newsletters.models import Edition, Newsletter


def _archived_list(slug: str) -> Newsletter:
    # Hidden and members-only lists keep their editions to their readers.
    return get_object_or_404(Newsletter.objects.offered(), slug=slug)


def archive(request: HttpRequest, slug: str) -> HttpResponse:
    newsletter = _archived_list(slug)
    editions = Edition.objects.archived(newsletter).only("pk", "subject", "preheader", "started_at")
    return render(
        request,
        "newsletters/archive.html",
        {"newsletter": newsletter, "editions": editions[:200]},
    )


def archive_edition(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    newsletter = _archived_list(slug)
    edition = get_object_or_404(Edition.objects.archived(newsletter), pk=pk)
    body = mark_safe(clean_for_page(edition.html_body))  # noqa: S308 - sanitised just above
    return render(
        request,
        "newsletters/archive_edition.html",
        {"newsletter": newsletter, "edition": edition, "body": body},
    )
