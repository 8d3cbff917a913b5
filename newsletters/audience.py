"""Who may have a list: everyone, or members only, as settings.NEWSLETTERS_MEMBER_CHECK says.

The setting names a callable taking an address and answering whether it belongs to a member
now; the membership app provides it. With none set, members-only lists take nobody.
"""

from collections.abc import Callable
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from newsletters.models import Newsletter


@cache
def _member_check(path: str) -> Callable[[str], bool] | None:
    return import_string(path) if path else None


def is_member(email: str) -> bool:
    check = _member_check(getattr(settings, "NEWSLETTERS_MEMBER_CHECK", ""))
    return bool(check and check(email))


def may_have(email: str, newsletter: Newsletter) -> bool:
    if newsletter.audience != Newsletter.Audience.MEMBERS:
        return True
    return is_member(email)
