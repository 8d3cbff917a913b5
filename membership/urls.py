from django.urls import path

from membership import demo_views, embeds, gift_views, redeem_views, views, webhooks

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
    path("gifts/", gift_views.buy, name="gift_buy"),
    path("gifts/thanks/", gift_views.thanks, name="gift_thanks"),
    path("gifts/cancelled/", gift_views.cancelled, name="gift_cancelled"),
    path("gifts/manage/<str:token>/", gift_views.gift_page, name="gift_page"),
    path(
        "gifts/manage/<str:token>/<int:gift_id>/<slug:action>/",
        gift_views.gift_action,
        name="gift_action",
    ),
    path("gifts/redeem/", redeem_views.redeem_code, name="gift_redeem_code"),
    path("gifts/redeemed/", redeem_views.redeemed, name="gift_redeemed"),
    path("gifts/redeem/<str:token>/", redeem_views.redeem_link, name="gift_redeem_link"),
    path("gifts/claim/<str:token>/", redeem_views.claim, name="gift_claim"),
    path("membership/drives/<slug:slug>/embed/", embeds.drive_widget, name="drive_widget"),
    path("membership/supporters/embed/", embeds.supporters_widget, name="supporters_widget"),
    path("membership/demo/checkout/<str:token>/", demo_views.checkout, name="demo_checkout"),
    path("membership/demo/portal/<str:token>/", demo_views.portal, name="demo_portal"),
    path(
        "membership/demo/gift-checkout/<str:token>/",
        demo_views.gift_checkout,
        name="demo_gift_checkout",
    ),
    path(
        "membership/demo/gift-refund/<str:token>/<int:gift_id>/",
        demo_views.gift_refund,
        name="demo_gift_refund",
    ),
    path("stripe/webhook/", webhooks.stripe_webhook, name="stripe_webhook"),
    path("api/v1/drives/<slug:slug>", embeds.drive_json, name="drive_json"),
    path("api/v1/supporters", embeds.supporters_json, name="supporters_json"),
]
