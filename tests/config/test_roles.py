"""Staff roles: each group sees and does only what its job needs."""

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile

from config.roles import sync_roles
from newsletters.models import Subscriber, SubscriberImport

pytestmark = pytest.mark.django_db


def staff_in(group_name, client):
    user = User.objects.create_user(group_name.split()[0].lower(), password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))
    client.force_login(user)
    return user


def codenames(group_name):
    group = Group.objects.get(name=group_name)
    return set(group.permissions.values_list("content_type__app_label", "codename"))


def test_migrating_creates_both_groups_with_their_permissions():
    editors = codenames("Audience editors")
    assert ("newsletters", "change_newsletter") in editors
    assert ("newsletters", "export_subscribers") in editors
    assert ("newsletters", "add_subscriberimport") in editors
    assert ("newsletters", "delete_subscriber") not in editors
    assert not {app for app, _codename in editors} - {"newsletters"}
    assert Group.objects.filter(name="Membership managers").exists()
    assert not {app for app, _ in codenames("Membership managers")} - {"membership"}


def test_membership_permissions_are_granted_on_the_next_migrate_without_code_changes():
    # A model the membership app might add later, with a permission of its own.
    badge = ContentType.objects.create(app_label="membership", model="badge")
    Permission.objects.create(content_type=badge, codename="view_badge", name="Can view badge")
    Permission.objects.create(content_type=badge, codename="replay_badge", name="Can replay")
    sync_roles()
    assert {("membership", "view_badge"), ("membership", "replay_badge")} <= codenames(
        "Membership managers"
    )
    assert ("membership", "view_badge") not in codenames("Audience editors")


def test_syncing_takes_back_a_permission_a_group_should_not_have():
    editors = Group.objects.get(name="Audience editors")
    editors.permissions.add(Permission.objects.get(codename="delete_user"))
    sync_roles()
    assert ("auth", "delete_user") not in codenames("Audience editors")


def test_an_audience_editor_runs_lists_readers_imports_and_exports_but_nothing_else(
    client, newsletters, media
):
    staff_in("Audience editors", client)
    index = client.get("/admin/").content.decode()
    for allowed in ["Newsletters", "Subscribers", "Subscriber imports"]:
        assert allowed in index
    assert "Users" not in index and "Groups" not in index
    Subscriber.objects.create(email="reader@example.org")
    assert client.get("/admin/newsletters/subscriber/").status_code == 200
    assert client.get("/admin/newsletters/subscriber/export/").status_code == 200
    assert client.get("/admin/auth/user/").status_code == 403
    upload = client.post(
        "/admin/newsletters/subscriberimport/add/",
        {
            "file": SimpleUploadedFile("list.csv", b"email\nnew@example.org\n"),
            "newsletters": [newsletters["daily-briefing"].pk],
            "consent_basis": "needs-confirmation",
            "consent_note": "Asked at our festival stand",
        },
    )
    assert upload.status_code == 302 and SubscriberImport.objects.count() == 1
    delete = client.post("/admin/newsletters/subscriber/1/delete/", {"post": "yes"})
    assert delete.status_code == 403 and Subscriber.objects.exists()


def test_a_membership_manager_cannot_see_or_change_the_newsletters(client, newsletters):
    staff_in("Membership managers", client)
    Subscriber.objects.create(email="reader@example.org")
    for url in [
        "/admin/newsletters/subscriber/",
        "/admin/newsletters/newsletter/",
        "/admin/newsletters/subscriberimport/add/",
        "/admin/newsletters/subscriber/export/",
    ]:
        assert client.get(url).status_code == 403, url
    assert "Subscribers" not in client.get("/admin/").content.decode()
