"""Settings for benchmarks: the real ones plus the bench-only URLs (the bare baseline view)."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
