from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from newsletters.importing.start import ImportRefused, start_from_path


class Command(BaseCommand):
    help = (
        "Import subscribers from a CSV file (Mailchimp, Substack, Ghost or plain), through the "
        "same code as the admin's import and with the same report."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--list",
            dest="lists",
            action="append",
            required=True,
            metavar="SLUG",
            help="a list to add the readers to; repeat for several",
        )
        parser.add_argument(
            "--consent",
            required=True,
            choices=["confirmed-elsewhere", "needs-confirmation"],
            help="how the readers gave consent",
        )
        parser.add_argument(
            "--note",
            default="",
            help="how consent was obtained, kept in each reader's consent record",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            run = start_from_path(
                options["file"], options["lists"], options["consent"], options["note"]
            )
        except ImportRefused as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"{run.status}: {run.added} added, {run.updated} updated, {run.skipped} skipped"
        )
        if run.error:
            raise CommandError(run.error)
        self.stdout.write(f"report: {run.report.path}")
