"""One log line per event, each carrying the id of the request or task it belongs to."""

import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

current_id: ContextVar[str] = ContextVar("current_id", default="-")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_id.get()
        return True


class RequestIdMiddleware:
    """Tag the request with an id (the proxy's X-Request-ID when it sent a sane one)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        # Not reset afterwards: Django logs the response after the middleware returns.
        current_id.set(request_id)
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response
