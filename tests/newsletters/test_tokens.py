from datetime import timedelta

import pytest
import time_machine

from newsletters.tokens import TokenExpired, TokenInvalid, make_token, read_token

WEEK = timedelta(days=7)


def test_a_token_reads_back_its_payload():
    token = make_token("confirm", {"s": 1})
    assert read_token("confirm", token, WEEK) == {"s": 1}


def test_a_token_expires_after_its_age():
    with time_machine.travel("2026-01-01 12:00Z", tick=False):
        token = make_token("confirm", {"s": 1})
    with time_machine.travel("2026-01-08 11:59Z", tick=False):
        assert read_token("confirm", token, WEEK) == {"s": 1}
    with time_machine.travel("2026-01-08 12:01Z", tick=False), pytest.raises(TokenExpired):
        read_token("confirm", token, WEEK)


def test_an_expired_token_still_yields_its_payload_while_renewable():
    with time_machine.travel("2026-01-01 12:00Z", tick=False):
        token = make_token("confirm", {"s": 1})
    with time_machine.travel("2026-02-01 12:00Z", tick=False):
        with pytest.raises(TokenExpired) as caught:
            read_token("confirm", token, WEEK, renewable_for=timedelta(days=90))
        assert caught.value.payload == {"s": 1}
    with time_machine.travel("2026-06-01 12:00Z", tick=False), pytest.raises(TokenInvalid):
        read_token("confirm", token, WEEK, renewable_for=timedelta(days=90))


def test_a_tampered_token_is_invalid():
    token = make_token("confirm", {"s": 1})
    signature = token.rpartition(":")[2]
    forged = make_token("confirm", {"s": 2}).rpartition(":")[0] + ":" + signature
    for bad in [forged, token[:-2], token + "x", "", "a" * 3000, "..::..", "\x00"]:
        with pytest.raises(TokenInvalid):
            read_token("confirm", bad, WEEK)


def test_a_token_for_another_purpose_is_invalid():
    token = make_token("preferences", {"s": 1})
    with pytest.raises(TokenInvalid):
        read_token("confirm", token, WEEK)
