"""The signup form's checks, as a bound form makes them and as the JSON endpoint does."""

import pytest
from django.http import QueryDict
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from newsletters.forms import MAX_LISTS_PER_SIGNUP, SignupForm

pytestmark = pytest.mark.django_db

SLUGS = ["daily-briefing", "editors-picks", "weekly-explainer", "no-such-list", ""]


def _as_a_form_says(data):
    form = SignupForm(data)
    form.is_valid()
    errors = {field: [str(m) for m in messages] for field, messages in form.errors.items()}
    return form.cleaned_data, errors


@hypothesis_settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    email=st.one_of(
        st.emails(),
        st.text(max_size=80),
        st.sampled_from(["", "  Reader@Example.ORG ", "'=cmd@example.org", "x" * 300 + "@a.org"]),
    ),
    lists=st.one_of(
        st.lists(st.sampled_from(SLUGS), max_size=4),
        st.just(["daily-briefing"] * (MAX_LISTS_PER_SIGNUP + 1)),
        st.lists(st.text(max_size=8), max_size=MAX_LISTS_PER_SIGNUP + 2, unique=True),
    ),
    website=st.sampled_from(["", "https://spam.example"]),
)
def test_check_decides_as_a_bound_form_does(newsletters, email, lists, website):
    data = {"email": email, "newsletters": lists, "website": website}
    assert SignupForm.check(data) == _as_a_form_says(data)
    posted = QueryDict(mutable=True)  # as a form-encoded post arrives
    posted.update({"email": email, "website": website})
    posted.setlist("newsletters", lists)
    assert SignupForm.check(posted) == _as_a_form_says(posted)


def test_check_cleans_a_good_signup(newsletters):
    data = {"email": " Reader@Example.ORG ", "newsletters": ["editors-picks"], "website": ""}
    cleaned, errors = SignupForm.check(data)
    assert errors == {}
    assert cleaned["email"] == "Reader@example.org"
    assert cleaned["newsletters"] == [newsletters["editors-picks"]]


def test_check_names_every_field_in_error(newsletters):
    _cleaned, errors = SignupForm.check(
        {"email": "not an address", "newsletters": ["no-such-list"], "website": "filled"}
    )
    assert set(errors) == {"email", "newsletters", "website"}
    assert "no newsletter called" in errors["newsletters"][0]
