"""The growth chart, drawn as SVG on the server: bars up for joins, down for leaves, a net line."""

from dataclasses import dataclass
from datetime import date, timedelta

from newsletters.models import GrowthDay, Newsletter

WIDTH = 720
HEIGHT = 240
PADDING = 8
WINDOWS = (30, 90, 365)


@dataclass(frozen=True)
class Day:
    day: date
    subscribed: int
    unsubscribed: int
    x: float
    up_y: float
    up_height: float
    down_height: float

    @property
    def net(self) -> int:
        return self.subscribed - self.unsubscribed


@dataclass(frozen=True)
class Chart:
    newsletter: Newsletter
    days: list[Day]
    bar_width: float
    zero_y: float
    net_points: str
    highest: int
    lowest: int
    subscribed: int
    unsubscribed: int
    ticks: list[tuple[float, date]]

    width = WIDTH
    height = HEIGHT

    @property
    def net(self) -> int:
        return self.subscribed - self.unsubscribed


def growth_chart(newsletter: Newsletter, days: int, today: date) -> Chart:
    """Lay out `days` days up to `today` from the daily aggregate (one indexed range read)."""
    start = today - timedelta(days=days - 1)
    stored = {
        row.day: row
        for row in GrowthDay.objects.filter(newsletter=newsletter, day__gte=start, day__lte=today)
    }
    series = [
        (start + timedelta(days=i), stored.get(start + timedelta(days=i))) for i in range(days)
    ]
    ups = [row.subscribed if row else 0 for _, row in series]
    downs = [row.unsubscribed if row else 0 for _, row in series]
    highest, lowest = max(ups, default=0), max(downs, default=0)
    span = max(highest + lowest, 1)
    usable = HEIGHT - 2 * PADDING
    zero_y = PADDING + usable * highest / span
    step = WIDTH / days
    bar = max(step * 0.8, 1.0)
    laid_out = []
    for i, (day, _row) in enumerate(series):
        up = usable * ups[i] / span
        laid_out.append(
            Day(
                day=day,
                subscribed=ups[i],
                unsubscribed=downs[i],
                x=round(i * step + (step - bar) / 2, 2),
                up_y=round(zero_y - up, 2),
                up_height=round(up, 2),
                down_height=round(usable * downs[i] / span, 2),
            )
        )
    net_points = " ".join(
        f"{round(i * step + step / 2, 2)},{round(_clamp(zero_y - usable * d.net / span), 2)}"
        for i, d in enumerate(laid_out)
    )
    tick_every = max(days // 6, 1)
    ticks = [(round(i * step, 2), d.day) for i, d in enumerate(laid_out) if i % tick_every == 0]
    return Chart(
        newsletter=newsletter,
        days=laid_out,
        bar_width=round(bar, 2),
        zero_y=round(zero_y, 2),
        net_points=net_points,
        highest=highest,
        lowest=lowest,
        subscribed=sum(ups),
        unsubscribed=sum(downs),
        ticks=ticks,
    )


def _clamp(y: float) -> float:
    return min(max(y, PADDING), HEIGHT - PADDING)
