"""The same import from the command line, for files too big to upload."""

import csv

import pytest
from django.core.management import CommandError, call_command

from newsletters.models import Subscriber, SubscriberImport

pytestmark = pytest.mark.django_db

SUBSTACK = (
    "email,active_subscription,expiry,plan,email_disabled,created_at\n"
    "paid@example.org,true,2026-01-01,monthly,false,2022-08-01T12:34:56.000Z\n"
    "free@example.org,false,,free,false,2023-02-03T04:05:06Z\n"
    "muted@example.org,false,,free,true,2023-02-03T04:05:06Z\n"
)


def write(tmp_path, text, name="substack.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_command_imports_through_the_same_code_and_writes_the_same_report(
    tmp_path, media, newsletters, capsys
):
    path = write(tmp_path, SUBSTACK)
    call_command(
        "import_subscribers",
        str(path),
        "--list",
        "daily-briefing",
        "--list",
        "editors-picks",
        "--consent",
        "confirmed-elsewhere",
        "--note",
        "Substack signups, single opt-in with a welcome email",
    )
    out = capsys.readouterr().out
    assert "done: 2 added, 0 updated, 1 skipped" in out
    run = SubscriberImport.objects.get()
    assert run.format == "substack" and run.file.path.startswith(str(media))
    assert f"report: {run.report.path}" in out
    with open(run.report.path, newline="") as report:
        assert [r["outcome"] for r in csv.DictReader(report)] == ["added", "added", "skipped"]
    assert Subscriber.objects.get(email="paid@example.org").subscriptions.count() == 2


@pytest.mark.parametrize(
    ("text", "lists", "consent", "message"),
    [
        (
            SUBSTACK,
            ["no-such-list"],
            "confirmed-elsewhere",
            "There is no list called no-such-list.",
        ),
        ("name\nAnn\n", ["daily-briefing"], "needs-confirmation", "include an email column"),
        ("email\na@example.org\n", ["daily-briefing"], "confirmed-elsewhere", "needs-confirmation"),
    ],
)
def test_the_command_refuses_bad_input_and_changes_nothing(
    tmp_path, media, newsletters, text, lists, consent, message
):
    args = [str(write(tmp_path, text))]
    for slug in lists:
        args += ["--list", slug]
    with pytest.raises(CommandError, match=message):
        call_command("import_subscribers", *args, "--consent", consent)
    assert not SubscriberImport.objects.exists() and not Subscriber.objects.exists()


def test_the_command_says_when_the_file_is_missing(tmp_path, newsletters):
    with pytest.raises(CommandError, match="There is no file at"):
        call_command(
            "import_subscribers",
            str(tmp_path / "nope.csv"),
            "--list",
            "daily-briefing",
            "--consent",
            "needs-confirmation",
        )
