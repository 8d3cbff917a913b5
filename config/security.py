"""Response headers that differ by page: which pages the newsroom's own sites may frame."""

from typing import TypeVar

from django.conf import settings
from django.http import HttpResponseBase

Response = TypeVar("Response", bound=HttpResponseBase)


def framable_by_newsroom(response: Response) -> Response:
    """Let this page, and only this one, be framed by the configured newsroom sites."""
    response.xframe_options_exempt = True  # type: ignore[attr-defined]
    # Read by django-csp's middleware: the rest of the site policy stays as it is.
    response._csp_replace = {  # type: ignore[attr-defined]
        "frame-ancestors": ["'self'", *settings.EMBED_ALLOWED_ORIGINS]
    }
    return response
