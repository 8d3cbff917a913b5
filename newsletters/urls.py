from django.urls import path

from newsletters import api, archive_views, preference_views, views

app_name = "newsletters"

urlpatterns = [
    # The busiest route first: resolving a path tries the patterns in order.
    path("api/v1/subscriptions", api.subscriptions, name="api_subscriptions"),
    path("newsletters/", views.signup_page, name="signup"),
    path("newsletters/almost-there/", views.almost_there, name="almost_there"),
    path("newsletters/confirm/<str:token>/", views.confirm, name="confirm"),
    path("newsletters/confirm/<str:token>/renew/", views.renew_confirmation, name="renew"),
    path("newsletters/embed/", api.embed, name="embed"),
    path("newsletters/preferences/", preference_views.request_link, name="request_link"),
    path("newsletters/preferences/sent/", preference_views.link_sent, name="preferences_sent"),
    path(
        "newsletters/preferences/<str:token>/",
        preference_views.preferences_page,
        name="preferences",
    ),
    path(
        "newsletters/preferences/<str:token>/leave-all/",
        preference_views.leave_all,
        name="leave_all",
    ),
    path("newsletters/preferences/<str:token>/resume/", preference_views.resume, name="resume"),
    path(
        "newsletters/preferences/<str:token>/renew/",
        preference_views.renew_link,
        name="renew_preferences",
    ),
    path("newsletters/unsubscribe/<str:token>/", preference_views.unsubscribe, name="unsubscribe"),
    path("newsletters/<slug:slug>/archive/", archive_views.archive, name="archive"),
    path(
        "newsletters/<slug:slug>/archive/<int:pk>/",
        archive_views.archive_edition,
        name="archive_edition",
    ),
]
