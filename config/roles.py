"""Staff roles: groups with just the permissions each job needs, kept up to date on migrate.

Permissions are named by app label and codename, so this module imports no app's models:
newsletters never imports membership, and the membership app's permissions are granted on
the first migrate after its models exist, without a change here. A pattern ending in "*"
names every permission of the app whose codename starts with what precedes it.
"""

from fnmatch import fnmatchcase
from typing import Any

ROLES: dict[str, tuple[tuple[str, str], ...]] = {
    # Lists, readers, imports and exports; no users, no payments.
    "Audience editors": (
        ("newsletters", "view_newsletter"),
        ("newsletters", "add_newsletter"),
        ("newsletters", "change_newsletter"),
        ("newsletters", "view_subscriber"),
        ("newsletters", "change_subscriber"),
        ("newsletters", "export_subscribers"),
        ("newsletters", "view_subscription"),
        ("newsletters", "view_consentevent"),
        ("newsletters", "view_subscriberimport"),
        ("newsletters", "add_subscriberimport"),
        # Not the outbox: its emails hold live confirmation links.
    ),
    # Members, memberships, plans, gifts, drives and Stripe events (with replay): the whole
    # membership app, whatever models it has. Newsletters are not theirs to run.
    "Membership managers": (("membership", "*"),),
}


def sync_roles(**kwargs: Any) -> None:
    """Create the role groups and set their permissions to exactly those named in ROLES.

    Connected to post_migrate, which runs once per app: each run grants what exists so far,
    and the last one, after every app's permissions are created, leaves the groups complete.
    """
    from django.contrib.auth.models import Group, Permission

    available = list(
        Permission.objects.select_related("content_type").values_list(
            "pk", "content_type__app_label", "codename"
        )
    )
    for name, grants in ROLES.items():
        wanted = {
            pk
            for pk, app_label, codename in available
            for grant_app, pattern in grants
            if app_label == grant_app and fnmatchcase(codename, pattern)
        }
        group, _ = Group.objects.get_or_create(name=name)
        if set(group.permissions.values_list("pk", flat=True)) != wanted:
            group.permissions.set(wanted)
