from django.conf import settings
from django.http import HttpRequest

from membership import gateway


def payments(request: HttpRequest) -> dict[str, object]:
    """PAYMENTS_DEMO: pages label themselves as a demo while payments are not real."""
    return {"PAYMENTS_DEMO": settings.DEBUG and gateway.demo_mode()}
