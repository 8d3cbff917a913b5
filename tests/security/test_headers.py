"""Security headers on every public page; the admin keeps Django's own defaults."""

import pytest

pytestmark = pytest.mark.django_db

PUBLIC_PAGES = [
    "/newsletters/",
    "/newsletters/almost-there/",
    "/newsletters/preferences/",
    "/membership/",
    "/membership/sign-in/",
    "/gifts/",
    "/gifts/redeem/",
]


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_pages_carry_a_strict_content_security_policy(client, newsletters, path):
    response = client.get(path)
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert "form-action 'self' https://checkout.stripe.com" in policy
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("path", ["/newsletters/embed/", "/membership/supporters/embed/"])
def test_embeds_may_be_framed_only_by_the_newsroom(client, newsletters, settings, path):
    settings.EMBED_ALLOWED_ORIGINS = ["https://news.example.org"]
    response = client.get(path)
    policy = response["Content-Security-Policy"]
    assert "frame-ancestors 'self' https://news.example.org" in policy
    assert "default-src 'self'" in policy  # the rest of the policy still applies
    assert "X-Frame-Options" not in response


def test_a_missing_page_is_a_clear_404_with_the_same_headers(client, newsletters):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "find that page" in response.content.decode()
    assert "default-src 'self'" in response["Content-Security-Policy"]


def test_the_admin_keeps_djangos_own_policy(client):
    response = client.get("/admin/login/")
    assert "Content-Security-Policy" not in response
    assert response["X-Frame-Options"] == "DENY"
