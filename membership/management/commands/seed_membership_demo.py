from typing import Any

from django.core.management.base import BaseCommand

from membership.demo_data import seed_membership


class Command(BaseCommand):
    help = "Create the demo plans, gift prices, members' newsletter and drive (safe to run again)."

    def handle(self, *args: Any, **options: Any) -> None:
        seed_membership()
        self.stdout.write("Demo membership plans, gift prices, members' newsletter and drive ready")
