"""ESP webhook bodies as Postmark and Mailgun send them, and their authentication."""

import base64
import hashlib
import hmac
import json
import uuid
from datetime import datetime

WEBHOOK_SECRET = "esp-webhooks:long-random-password"
MAILGUN_SIGNING_KEY = "key-mailgun-webhook-signing-key"
METADATA = {"kind": "welcome", "outbox_key": "welcome.5f0c", "subscriber": "1"}


def basic_auth(credentials=WEBHOOK_SECRET):
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(credentials.encode()).decode()}


def post_json(client, path, payload, auth):
    return client.post(path, json.dumps(payload), content_type="application/json", **auth)


# Postmark: basic auth only (it has no signing key).


def postmark(client, payload, auth=None):
    return post_json(
        client, "/anymail/postmark/tracking/", payload, basic_auth() if auth is None else auth
    )


def postmark_bounce(email, at: datetime, kind="HardBounce"):
    names = {
        "HardBounce": (
            1,
            "Hard bounce",
            "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
            True,
        ),
        "SoftBounce": (4096, "Soft bounce", "Unable to temporarily deliver this email.", False),
    }
    code, name, description, inactive = names[kind]
    return {
        "RecordType": "Bounce",
        "MessageStream": "outbound",
        "ID": 4323372036854775807,
        "Type": kind,
        "TypeCode": code,
        "Name": name,
        "Tag": "welcome",
        "MessageID": str(uuid.uuid4()),
        "Metadata": METADATA,
        "ServerID": 23,
        "Description": description,
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist."
        if kind == "HardBounce"
        else "smtp;452 4.2.2 The email account that you tried to reach is over quota.",
        "Email": email,
        "From": "newsletters@news.example.org",
        "BouncedAt": at.isoformat(),
        "DumpAvailable": True,
        "Inactive": inactive,
        "CanActivate": True,
        "Subject": "Welcome to The Ledger",
    }


def postmark_complaint(email, at: datetime):
    return {
        "RecordType": "SpamComplaint",
        "MessageStream": "outbound",
        "ID": 42,
        "Type": "SpamComplaint",
        "TypeCode": 512,
        "Name": "Spam complaint",
        "Tag": "welcome",
        "MessageID": str(uuid.uuid4()),
        "Metadata": METADATA,
        "ServerID": 23,
        "Description": "The subscriber explicitly marked this message as spam.",
        "Details": "Test spam complaint details",
        "Email": email,
        "From": "newsletters@news.example.org",
        "BouncedAt": at.isoformat(),
        "DumpAvailable": True,
        "Inactive": True,
        "CanActivate": False,
        "Subject": "Welcome to The Ledger",
    }


def postmark_unsubscribe(email, at: datetime):
    return {
        "RecordType": "SubscriptionChange",
        "MessageID": str(uuid.uuid4()),
        "ServerID": 23,
        "MessageStream": "outbound",
        "ChangedAt": at.isoformat(),
        "Recipient": email,
        "Origin": "Recipient",
        "SuppressSending": True,
        "SuppressionReason": "ManualSuppression",
        "Tag": "welcome",
        "Metadata": METADATA,
    }


def postmark_delivery(email, at: datetime):
    return {
        "RecordType": "Delivery",
        "ServerID": 23,
        "MessageStream": "outbound",
        "MessageID": str(uuid.uuid4()),
        "Recipient": email,
        "Tag": "welcome",
        "DeliveredAt": at.isoformat(),
        "Details": "Test delivery webhook details",
        "Metadata": METADATA,
    }


def postmark_open(email, at: datetime):
    return {
        "RecordType": "Open",
        "MessageStream": "outbound",
        "FirstOpen": True,
        "Client": {"Name": "Gmail", "Company": "Google", "Family": "Gmail"},
        "OS": {"Name": "unknown", "Company": "unknown", "Family": "unknown"},
        "Platform": "Unknown",
        "UserAgent": "Mozilla/5.0",
        "MessageID": str(uuid.uuid4()),
        "ReceivedAt": at.isoformat(),
        "Recipient": email,
        "Metadata": METADATA,
    }


def postmark_inbound(to, subject):
    return {
        "FromName": "Reader",
        "From": "reader@example.org",
        "FromFull": {"Email": "reader@example.org", "Name": "Reader", "MailboxHash": ""},
        "To": to,
        "ToFull": [{"Email": to, "Name": "", "MailboxHash": ""}],
        "Cc": "",
        "CcFull": [],
        "OriginalRecipient": to,
        "Subject": subject,
        "MessageID": str(uuid.uuid4()),
        "ReplyTo": "",
        "MailboxHash": "",
        "Date": "Fri, 27 Nov 2026 10:00:00 +0000",
        "TextBody": "",
        "HtmlBody": "",
        "StrippedTextReply": "",
        "Tag": "",
        "Headers": [{"Name": "X-Spam-Status", "Value": "No"}],
        "Attachments": [],
    }


# Mailgun: an HMAC signature with the webhook signing key, and basic auth on top.


def mailgun(client, payload, auth=None):
    return post_json(
        client, "/anymail/mailgun/tracking/", payload, basic_auth() if auth is None else auth
    )


def mailgun_signed(event_data, key=MAILGUN_SIGNING_KEY, token=None):
    token = token or uuid.uuid4().hex + uuid.uuid4().hex[:18]
    timestamp = str(int(event_data["timestamp"]))
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    return {
        "signature": {"timestamp": timestamp, "token": token, "signature": signature},
        "event-data": event_data,
    }


def mailgun_event(event, email, at: datetime, **fields):
    return {
        "id": uuid.uuid4().hex[:22],
        "event": event,
        "timestamp": at.timestamp(),
        "log-level": "error" if event in {"failed", "complained"} else "info",
        "recipient": email,
        "recipient-domain": email.rpartition("@")[2],
        "tags": ["welcome"],
        "user-variables": METADATA,
        "envelope": {"sender": "newsletters@news.example.org", "transport": "smtp"},
        "message": {
            "headers": {
                "to": email,
                "message-id": f"{uuid.uuid4().hex}@news.example.org",
                "from": "The Ledger <newsletters@news.example.org>",
                "subject": "Welcome to The Ledger",
            },
            "attachments": [],
            "size": 4096,
        },
        **fields,
    }


def mailgun_failure(email, at: datetime, severity="permanent", reason="bounce"):
    code, message = {
        "bounce": (550, "5.1.1 The email account that you tried to reach does not exist."),
        "generic": (452, "4.2.2 The email account that you tried to reach is over quota."),
        "old": (452, "Too old: gave up after retrying for 8 hours"),
    }[reason]
    return mailgun_event(
        "failed",
        email,
        at,
        severity=severity,
        reason=reason,
        **{
            "delivery-status": {
                "attempt-no": 1,
                "code": code,
                "message": message,
                "description": "",
                "session-seconds": 1.2,
            }
        },
    )
