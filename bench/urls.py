import json

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from config.urls import urlpatterns as service_urlpatterns


@csrf_exempt
@require_POST
def bare_insert(request: HttpRequest) -> JsonResponse:
    """The baseline: parse the same body, one INSERT, answer as the signup endpoint does."""
    data = json.loads(request.body)
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_bare (email) VALUES (%s)", [data["email"]])
    return JsonResponse({"message": "ok"}, status=202)


@csrf_exempt
@require_POST
def bare_insert_unchecked(request: HttpRequest) -> JsonResponse:
    """The same, without Django's per-request health check (a SELECT 1 round trip), which the
    signup's INSERT skips too: the baseline for the signup's own work alone."""
    connection.health_check_done = True  # type: ignore[attr-defined]
    return bare_insert(request)


urlpatterns = [
    path("bench/bare", bare_insert),
    path("bench/bare-unchecked", bare_insert_unchecked),
    *service_urlpatterns,
]
