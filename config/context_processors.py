from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, object]:
    return {"NEWSROOM_NAME": settings.NEWSROOM_NAME, "SITE_URL": settings.SITE_URL}
