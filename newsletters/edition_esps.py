"""Which email providers can send an edition as one batch call, and how to address their merge.

Batch sending (one API call, many recipients, each with their own links) needs an ESP that
merges per-recipient data into an inline body and takes per-recipient headers and metadata
(anymail's merge_data, merge_headers and merge_metadata). anymail does not unify the merge
field syntax, so this table says it per ESP; an ESP missing here (Postmark and Amazon SES
merge only into stored templates, Resend not at all, Mandrill and MailerSend have no
per-recipient headers) gets one message per recipient over one connection.
"""

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings


@dataclass(frozen=True)
class BatchSupport:
    merge_field: str  # the ESP's syntax for a merge field, with NAME standing for its name
    max_recipients: int
    message_id_header: bool = True  # whether a per-recipient Message-ID header goes through
    esp_extra: dict[str, Any] = field(default_factory=dict)

    def field(self, name: str) -> str:
        return self.merge_field.replace("NAME", name)


# Keyed by anymail's esp_name. Limits are the ESPs' documented recipients per call.
BATCH_ESPS: dict[str, BatchSupport] = {
    "Mailgun": BatchSupport("%recipient.NAME%", 1000),
    # SendGrid's legacy substitutions need delimiters; anymail takes them through esp_extra.
    "SendGrid": BatchSupport("-NAME-", 1000, esp_extra={"merge_field_format": "-{}-"}),
    "SparkPost": BatchSupport("{{NAME}}", 10000),
    "Brevo": BatchSupport("{{params.NAME}}", 1000),
    "Mailjet": BatchSupport("{{var:NAME}}", 50),
    "Unisender Go": BatchSupport("{{NAME}}", 500, message_id_header=False),
    # anymail's test backend records the call without merging.
    "Test": BatchSupport("{{NAME}}", 1000),
}


def batch_support(connection: Any) -> BatchSupport | None:
    """How to batch through this email connection, or None to send one message per recipient."""
    mode = settings.EDITION_BATCH_SENDING
    if mode == "off":
        return None
    if settings.EDITION_MERGE_FIELD:
        # An ESP (or stand-in) the table does not know, described in the settings.
        return BatchSupport(settings.EDITION_MERGE_FIELD, settings.EDITION_BATCH_SIZE)
    return BATCH_ESPS.get(getattr(connection, "esp_name", ""))
