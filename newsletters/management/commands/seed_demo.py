from typing import Any

from django.core.management.base import BaseCommand

from newsletters.demo import seed_newsletters


class Command(BaseCommand):
    help = "Create the demo newsletters (safe to run again)."

    def handle(self, *args: Any, **options: Any) -> None:
        newsletters = seed_newsletters()
        self.stdout.write(f"Demo newsletters ready: {', '.join(n.slug for n in newsletters)}")
