"""Recognising exports from their header row and reading their rows."""

import csv
import io
from datetime import UTC, datetime

import pytest

from newsletters.importing import formats, reader

MAILCHIMP = (
    '"Email Address","First Name","Last Name",Address,"Phone Number",MEMBER_RATING,OPTIN_TIME,'
    "OPTIN_IP,CONFIRM_TIME,CONFIRM_IP,LATITUDE,LONGITUDE,GMTOFF,DSTOFF,TIMEZONE,CC,REGION,"
    "LAST_CHANGED,LEID,EUID,NOTES,TAGS\r\n"
    'olena@example.org,Olena,Kovalenko,"12 Khreshchatyk St, Kyiv",,2,"2021-03-14 10:22:01",'
    '203.0.113.7,"2021-03-14 10:25:40",198.51.100.23,,,,,,UA,,"2023-01-01 00:00:00",'
    '172839,aa1b2c,,"""Readers"",""Spring drive"""\r\n'
)
MAILCHIMP_UNSUBSCRIBED = (
    '"Email Address","First Name",OPTIN_TIME,OPTIN_IP,CONFIRM_TIME,CONFIRM_IP,UNSUB_TIME,'
    "UNSUB_CAMPAIGN_TITLE,UNSUB_REASON\r\n"
    'gone@example.org,Petro,"2020-01-02 09:00:00",,"2020-01-02 09:05:00",,'
    '"2024-05-06 07:08:09","May digest","No longer interested"\r\n'
)
MAILCHIMP_CLEANED = (
    '"Email Address",OPTIN_TIME,CONFIRM_TIME,CLEAN_TIME,CLEAN_CAMPAIGN_TITLE\r\n'
    'bounced@example.org,"2020-01-02 09:00:00","2020-01-02 09:05:00","2024-05-06 07:08:09",'
    "Weekly\r\n"
)
SUBSTACK = (
    "email,active_subscription,expiry,plan,email_disabled,created_at,first_payment_at\n"
    "reader@example.org,false,,free,false,2022-08-01T12:34:56.000Z,\n"
    "muted@example.org,true,2026-01-01T00:00:00.000Z,monthly,true,2023-02-03T04:05:06.000Z,"
    "2023-02-03T04:05:06.000Z\n"
)
GHOST = (
    "id,email,name,note,subscribed_to_emails,complimentary_plan,stripe_customer_id,created_at,"
    "deleted_at,labels,tiers\n"
    "6231a,member@example.org,Iryna Melnyk,,true,false,cus_Nf1,2022-03-16T08:03:11.000Z,,"
    '"VIP, Early",Supporter\n'
    "6231b,quiet@example.org,,,false,false,,2022-03-17T09:00:00.000Z,,,\n"
)


def first_row(text: str) -> list[str]:
    return next(csv.reader(io.StringIO(text)))


def rows(text: str) -> list[formats.SourceRow]:
    layout = formats.detect(first_row(text))
    lines = list(csv.reader(io.StringIO(text)))
    return [layout.read(cells) for cells in lines[1 if layout.has_header else 0 :]]


def test_a_mailchimp_export_is_recognised_and_its_consent_columns_are_read():
    layout = formats.detect(first_row(MAILCHIMP))
    assert layout.format == formats.MAILCHIMP and layout.has_consent_columns
    (row,) = rows(MAILCHIMP)
    assert row.email == "olena@example.org"
    assert row.opted_in_at == datetime(2021, 3, 14, 10, 22, 1, tzinfo=UTC)
    assert row.opted_in_ip == "203.0.113.7"
    assert row.confirmed_at == datetime(2021, 3, 14, 10, 25, 40, tzinfo=UTC)
    assert row.ip == "198.51.100.23"
    assert row.has_proof and not row.opted_out


def test_mailchimp_unsubscribed_and_cleaned_exports_mark_their_readers_as_gone():
    assert [r.opted_out for r in rows(MAILCHIMP_UNSUBSCRIBED)] == [formats.UNSUBSCRIBED_THERE]
    assert [r.opted_out for r in rows(MAILCHIMP_CLEANED)] == [formats.CLEANED_THERE]


def test_a_substack_export_is_recognised_and_disabled_email_is_an_opt_out():
    layout = formats.detect(first_row(SUBSTACK))
    assert layout.format == formats.SUBSTACK and layout.has_consent_columns
    reader_row, muted = rows(SUBSTACK)
    assert reader_row.opted_in_at == datetime(2022, 8, 1, 12, 34, 56, tzinfo=UTC)
    assert not reader_row.opted_out
    assert muted.opted_out == formats.DISABLED_THERE


def test_a_ghost_export_is_recognised_and_unsubscribed_members_are_marked():
    layout = formats.detect(first_row(GHOST))
    assert layout.format == formats.GHOST
    member, quiet = rows(GHOST)
    assert member.email == "member@example.org"
    assert member.opted_in_at == datetime(2022, 3, 16, 8, 3, 11, tzinfo=UTC)
    assert not member.opted_out
    assert quiet.opted_out == formats.NOT_SUBSCRIBED_THERE


@pytest.mark.parametrize(
    "header", ["email", "Email", " EMAIL ", "e-mail,name", "name,email_address", "E-Mail"]
)
def test_a_plain_file_needs_only_an_email_column(header):
    layout = formats.detect(first_row(header))
    assert layout.format == formats.PLAIN and layout.has_header
    assert not layout.has_consent_columns


def test_a_plain_file_without_a_header_starts_with_an_address():
    layout = formats.detect(["reader@example.org", "Reader"])
    assert layout.format == formats.PLAIN and not layout.has_header and layout.email == 0


def test_a_file_without_an_email_column_is_refused_with_a_clear_message():
    with pytest.raises(formats.UnknownFormat, match="email column"):
        formats.detect(["name", "city"])


def test_short_rows_read_as_empty_and_unreadable_times_and_ips_as_absent():
    layout = formats.detect(first_row(MAILCHIMP))
    row = layout.read(["late@example.org", "A", "B", "", "", "", "yesterday", "999.1.1.1"])
    assert row.email == "late@example.org"
    assert row.opted_in_at is None and row.opted_in_ip is None and row.confirmed_at is None
    assert not row.has_proof


def test_ipv6_addresses_are_kept_in_their_canonical_form():
    assert formats.parse_ip("2001:DB8:0:0:0:0:0:1") == "2001:db8::1"


def test_a_byte_order_mark_crlf_ends_and_quoted_commas_are_read_as_meant():
    data = ("\ufeff" + MAILCHIMP).encode("utf-8")
    layout, header, start = reader.read_layout(io.BytesIO(data))
    assert layout.format == formats.MAILCHIMP and header[0] == "Email Address"
    (chunk,) = reader.chunks(
        io.BytesIO(data), layout, offset=start, first_row=2, size=10, seen=set()
    )
    (row,) = chunk.rows
    assert row.number == 2 and row.email == "olena@example.org"
    assert chunk.end_offset == len(data)


def test_addresses_are_trimmed_their_domain_lower_cased_and_repeats_rejected():
    data = (
        b"email\r\n  Ann@Example.ORG  \r\nann@example.org\r\nnot-an-address\r\n,\r\n"
        b"'=cmd@example.org\r\n"
    )
    layout, _header, start = reader.read_layout(io.BytesIO(data))
    (chunk,) = reader.chunks(
        io.BytesIO(data), layout, offset=start, first_row=2, size=10, seen=set()
    )
    assert [(r.number, r.email) for r in chunk.rows] == [
        (2, "Ann@example.org"),
        (6, "=cmd@example.org"),
    ]
    assert [(r.number, r.reason) for r in chunk.rejected] == [
        (3, reader.DUPLICATE),
        (4, reader.INVALID_EMAIL),
        (5, reader.NO_EMAIL),
    ]


def test_chunks_end_on_row_boundaries_so_a_run_can_resume_from_their_offset():
    data = b"email\n" + b"".join(f"r{i}@example.org\n".encode() for i in range(7))
    layout, _header, start = reader.read_layout(io.BytesIO(data))
    parts = list(
        reader.chunks(io.BytesIO(data), layout, offset=start, first_row=2, size=3, seen=set())
    )
    assert [len(p) for p in parts] == [3, 3, 1]
    resumed = list(
        reader.chunks(
            io.BytesIO(data),
            layout,
            offset=parts[0].end_offset,
            first_row=parts[0].last_row + 1,
            size=10,
            seen=set(),
        )
    )
    assert [r.email for r in resumed[0].rows] == [f"r{i}@example.org" for i in range(3, 7)]
    assert resumed[0].rows[0].number == 5
