"""Script and markup from anyone are shown as text; no header injection; no open redirects;
every form that relies on a cookie carries a CSRF token."""

import re
from pathlib import Path

import pytest
from django.core import mail
from django.test import Client

from newsletters.models import Newsletter
from tests.conftest import link_in

pytestmark = pytest.mark.django_db(transaction=True)

SCRIPT = "<script>alert(1)</script>"
IMAGE = '<img src=x onerror="alert(2)">'
TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
# Forms that must work without the reader's cookies, each protected another way.
COOKIELESS_FORMS = {
    "newsletters/embed.html": "framed on the newsroom's site; checked by Origin and rate limits",
    "newsletters/unsubscribe.html": "RFC 8058 one-click: the signed link is the credential",
}


@pytest.fixture
def hostile_list(db):
    return Newsletter.objects.create(
        slug="hostile", name=f"Tonight {SCRIPT}", description=f"Read this {IMAGE}", position=1
    )


def test_markup_in_list_names_and_descriptions_is_escaped_on_pages(client, hostile_list):
    html = client.get("/newsletters/").content.decode()
    assert SCRIPT not in html and IMAGE not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;" in html


def test_markup_in_list_names_is_escaped_in_emails_and_the_confirm_page(client, hostile_list):
    client.post("/newsletters/", {"email": "reader@example.org", "newsletters": "hostile"})
    (message,) = mail.outbox
    html, _ = message.alternatives[0]
    assert SCRIPT not in html
    assert "&lt;script&gt;" in html
    page = client.get(link_in(message.body, "/newsletters/confirm/")).content.decode()
    assert SCRIPT not in page


def test_line_breaks_in_a_list_name_cannot_add_email_headers(client, db):
    Newsletter.objects.create(slug="crlf", name="News\r\nBcc: victim@example.com\r\nX-Evil: 1")
    client.post("/newsletters/", {"email": "reader@example.org", "newsletters": "crlf"})
    (message,) = mail.outbox
    raw = message.message().as_string()
    headers = raw.split("\n\n", 1)[0]
    assert "Bcc:" not in headers and "X-Evil" not in headers
    assert message.bcc == []
    assert message.recipients() == ["reader@example.org"]


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/newsletters/", {"email": "reader@example.org", "newsletters": "daily-briefing"}),
        ("/newsletters/preferences/", {"email": "reader@example.org"}),
        ("/membership/sign-in/", {"email": "reader@example.org"}),
    ],
)
def test_next_style_parameters_cannot_send_a_reader_off_the_site(client, newsletters, path, data):
    for name in ("next", "return_to", "redirect", "url"):
        response = client.post(
            f"{path}?{name}=https://evil.example.com/", {**data, name: "//evil.example.com"}
        )
        location = response.get("Location", "")
        assert "evil.example.com" not in location
        assert not location.startswith("//")


def test_every_form_that_uses_cookies_carries_a_csrf_token():
    missing = []
    for template in TEMPLATES.rglob("*.html"):
        name = template.relative_to(TEMPLATES).as_posix()
        if name.startswith("emails/") or name in COOKIELESS_FORMS:
            continue
        for form in re.findall(r"<form\b[^>]*>.*?</form>", template.read_text(), flags=re.S | re.I):
            if re.search(r'method="post"', form, re.I) and "{% csrf_token %}" not in form:
                missing.append(name)
    assert missing == []


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/newsletters/", {"email": "reader@example.org", "newsletters": "daily-briefing"}),
        ("/newsletters/preferences/", {"email": "reader@example.org"}),
        ("/membership/sign-in/", {"email": "reader@example.org"}),
    ],
)
def test_cookie_forms_refuse_a_post_without_its_token(newsletters, path, data):
    response = Client(enforce_csrf_checks=True).post(path, data)
    assert response.status_code == 403
