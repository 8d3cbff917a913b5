from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from config import views

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="newsletters:signup", permanent=False)),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    # The ESP's tracking (and inbound) webhooks, authenticated by anymail from ANYMAIL_* settings.
    path("anymail/", include("anymail.urls")),
    path("", include("newsletters.urls")),
    path("", include("membership.urls")),
]
