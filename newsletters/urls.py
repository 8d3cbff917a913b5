from django.urls import path

from newsletters import api, views

app_name = "newsletters"

urlpatterns = [
    path("newsletters/", views.signup_page, name="signup"),
    path("newsletters/almost-there/", views.almost_there, name="almost_there"),
    path("newsletters/confirm/<str:token>/", views.confirm, name="confirm"),
    path("newsletters/confirm/<str:token>/renew/", views.renew_confirmation, name="renew"),
    path("newsletters/embed/", api.embed, name="embed"),
    path("api/v1/subscriptions", api.subscriptions, name="api_subscriptions"),
]
