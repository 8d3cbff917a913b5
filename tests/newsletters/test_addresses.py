import pytest
from django.core.exceptions import ValidationError

from newsletters.addresses import normalise_email


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("reader@example.org", "reader@example.org"),
        ("  Reader@Example.ORG \n", "Reader@example.org"),
        ("first.last+news@Sub.Example.co.uk", "first.last+news@sub.example.co.uk"),
    ],
)
def test_addresses_are_trimmed_and_their_domain_lower_cased(raw, expected):
    assert normalise_email(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "not-an-address",
        "two@@example.org",
        "reader@example.org\nBcc: victim@example.org",
        "a" * 250 + "@example.org",
        "<script>@example.org",
    ],
)
def test_anything_not_an_address_is_refused_with_a_clear_message(raw):
    with pytest.raises(ValidationError) as caught:
        normalise_email(raw)
    assert "email address" in " ".join(caught.value.messages)
