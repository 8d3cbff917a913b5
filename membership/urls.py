from django.urls import path

from membership import demo_views, embeds, views, webhooks

app_name = "membership"

urlpatterns = [
    path("membership/", views.join, name="join"),
    path("membership/welcome/", views.welcome, name="welcome"),
    path("membership/cancelled/", views.cancelled, name="cancelled"),
    path("membership/sign-in/", views.sign_in, name="sign_in"),
    path("membership/sign-in/sent/", views.sign_in_sent, name="sign_in_sent"),
    path("membership/sign-in/<str:token>/", views.sign_in_link, name="sign_in_link"),
    path("membership/sign-out/", views.sign_out, name="sign_out"),
    path("membership/account/", views.account, name="account"),
    path("membership/account/billing/", views.billing, name="billing"),
    path("membership/account/newsletters/", views.join_list, name="join_list"),
    path("membership/drives/<slug:slug>/embed/", embeds.drive_widget, name="drive_widget"),
    path("membership/supporters/embed/", embeds.supporters_widget, name="supporters_widget"),
    path("membership/demo/checkout/<str:token>/", demo_views.checkout, name="demo_checkout"),
    path("membership/demo/portal/<str:token>/", demo_views.portal, name="demo_portal"),
    path("stripe/webhook/", webhooks.stripe_webhook, name="stripe_webhook"),
    path("api/v1/drives/<slug:slug>", embeds.drive_json, name="drive_json"),
    path("api/v1/supporters", embeds.supporters_json, name="supporters_json"),
]
