"""Signed, expiring tokens for links in emails, salted per purpose.

A token made for one purpose (say, confirming a signup) is refused for any other, and a token
past its age is reported as expired, with its payload, so the page can offer a fresh link.
"""

from datetime import timedelta
from typing import Any

from django.core import signing

_SALT_PREFIX = "newsletters.tokens."


class TokenInvalid(Exception):
    """The token was tampered with, truncated, or made for another purpose."""


class TokenExpired(Exception):
    """The token is genuine but too old."""

    def __init__(self, payload: Any) -> None:
        super().__init__("token expired")
        self.payload = payload


def make_token(purpose: str, payload: Any) -> str:
    return signing.dumps(payload, salt=_SALT_PREFIX + purpose, compress=True)


def read_token(
    purpose: str, token: str, max_age: timedelta | None, *, renewable_for: timedelta | None = None
) -> Any:
    """Return the payload, or raise TokenExpired or TokenInvalid.

    A token older than max_age raises TokenExpired only while it is younger than max_age plus
    renewable_for; older still it is simply invalid. With max_age None it never expires.
    """
    salt = _SALT_PREFIX + purpose
    if len(token) > 2000:
        raise TokenInvalid("token too long")
    try:
        return signing.loads(token, salt=salt, max_age=max_age)
    except signing.SignatureExpired:
        if renewable_for is None or max_age is None:
            raise TokenExpired(None) from None
        try:
            payload = signing.loads(token, salt=salt, max_age=max_age + renewable_for)
        except signing.BadSignature:
            raise TokenInvalid("token far too old") from None
        raise TokenExpired(payload) from None
    except (signing.BadSignature, ValueError, UnicodeDecodeError) as exc:
        raise TokenInvalid(str(exc)) from None
