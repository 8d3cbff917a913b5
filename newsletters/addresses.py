"""Email addresses as readers type them, made comparable."""

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.utils.translation import gettext_lazy as _

MAX_LENGTH = 254
INVALID = _("Please enter a valid email address.")
_validate = EmailValidator(message=INVALID)


def normalise_email(raw: str) -> str:
    """Trim and lower-case the domain; raise ValidationError for anything not an address.

    The local part keeps its case: a few mail systems treat it as significant, so the address
    is stored as given and compared case-insensitively instead.
    """
    address = raw.strip()
    if not address:
        raise ValidationError(_("Please enter your email address."), code="required")
    if len(address) > MAX_LENGTH:
        raise ValidationError(
            _("Please enter a valid email address (%(limit)d characters at most)."),
            code="max_length",
            params={"limit": MAX_LENGTH},
        )
    _validate(address)
    local, _at, domain = address.rpartition("@")
    return f"{local}@{domain.lower()}"
