"""The demo newsletters a first run starts with."""

from newsletters.models import Newsletter

DEMO_NEWSLETTERS = [
    {
        "slug": "daily-briefing",
        "name": "The Daily Briefing",
        "description": "The day's news in five minutes, every weekday morning.",
        "position": 10,
    },
    {
        "slug": "editors-picks",
        "name": "Editors' Picks",
        "description": "The stories our editors think you shouldn't miss, every Saturday.",
        "position": 20,
    },
    {
        "slug": "weekly-explainer",
        "name": "The Weekly Explainer",
        "description": "One big story, explained from the ground up, every Wednesday.",
        "position": 30,
    },
]


def seed_newsletters() -> list[Newsletter]:
    """Create the demo lists if missing; staff edits to existing ones are left alone."""
    return [
        Newsletter.objects.get_or_create(slug=fields["slug"], defaults=fields)[0]
        for fields in DEMO_NEWSLETTERS
    ]
