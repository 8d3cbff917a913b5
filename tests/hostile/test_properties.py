"""Property-based hostile input: whatever arrives, never a 500 and never a partial write."""

import contextlib
import json
import string
from datetime import timedelta

import pytest
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from membership.models import StripeEvent
from newsletters.models import ConsentEvent, SignupRequest, Subscriber
from newsletters.signup import ConfirmationLink
from newsletters.tokens import TokenExpired, TokenInvalid, read_token
from tests.membership.conftest import sign

pytestmark = pytest.mark.django_db

PROPERTY = hypothesis_settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SLUGS = ["daily-briefing", "editors-picks", "weekly-explainer"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
emails = st.one_of(
    st.emails(),
    st.text(max_size=300),
    st.text(alphabet=string.printable, max_size=60).map(lambda s: s + "@example.org"),
    st.sampled_from(["a@b.c\r\nBcc: x@y.z", "<script>@x.org", "x" * 5000, ""]),
)
slug_lists = st.lists(st.one_of(st.sampled_from(SLUGS), st.text(max_size=30)), max_size=5)


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    """Rate limits would turn most examples into 429s and hide what the code does."""
    settings.SIGNUP_RATE_PER_IP = "1000000/h"
    settings.SIGNUP_RATE_PER_ADDRESS = "1000000/h"


def rows():
    return (SignupRequest.objects.count(), Subscriber.objects.count(), ConsentEvent.objects.count())


@PROPERTY
@given(body=json_values)
def test_any_json_body_gets_an_answer_and_writes_only_when_accepted(newsletters, body):
    before = rows()
    response = Client().post(
        "/api/v1/subscriptions", json.dumps(body), content_type="application/json"
    )
    assert response.status_code in {202, 400}
    assert "message" in response.json()
    grew = rows() != before
    assert grew == (response.status_code == 202)


@PROPERTY
@given(email=emails, lists=slug_lists, honeypot=st.one_of(st.just(""), st.text(max_size=20)))
def test_any_signup_form_gets_a_page_and_writes_only_when_accepted(
    newsletters, email, lists, honeypot
):
    before = SignupRequest.objects.count()
    data = {"email": email, "newsletters": lists, "website": honeypot}
    response = Client().post("/newsletters/", data)
    assert response.status_code in {302, 400}
    created = SignupRequest.objects.count() - before
    assert created == (1 if response.status_code == 302 else 0)
    if created:
        request = SignupRequest.objects.latest("pk")
        assert "\n" not in request.email and "\r" not in request.email


@PROPERTY
@given(token=st.text(max_size=300))
def test_any_token_is_refused_cleanly(token):
    for reader in (
        lambda t: read_token("confirm-subscription", t, timedelta(days=7)),
        ConfirmationLink.read,
    ):
        with contextlib.suppress(TokenInvalid, TokenExpired):
            reader(token)


@PROPERTY
@given(
    token=st.text(
        alphabet=string.ascii_letters + string.digits + ":-_.%=", min_size=1, max_size=200
    )
)
def test_any_confirmation_url_answers_without_an_error(newsletters, token):
    client = Client(raise_request_exception=False)
    for method in (client.get, client.post):
        response = method(f"/newsletters/confirm/{token}/")
        assert response.status_code in {400, 404, 410}


@PROPERTY
@given(body=st.one_of(json_values.map(json.dumps), st.binary(max_size=200)))
def test_unsigned_or_forged_webhooks_are_refused_and_stored_nowhere(body):
    client = Client(raise_request_exception=False)
    raw = body if isinstance(body, bytes) else body.encode()
    for signature in ("", "t=1,v1=deadbeef", sign(raw.decode("latin-1"), secret="whsec_wrong")):
        response = client.post(
            "/stripe/webhook/",
            raw,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=signature,
        )
        assert response.status_code == 400
    assert StripeEvent.objects.count() == 0


@PROPERTY
@given(body=json_values.filter(lambda v: not (isinstance(v, dict) and "id" in v and "type" in v)))
def test_signed_bodies_that_are_not_events_are_refused(body):
    raw = json.dumps(body)
    response = Client(raise_request_exception=False).post(
        "/stripe/webhook/", raw, content_type="application/json", HTTP_STRIPE_SIGNATURE=sign(raw)
    )
    assert response.status_code == 400
    assert StripeEvent.objects.count() == 0
