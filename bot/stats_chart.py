"""The `/coach stats` chart: sessions per week as a bar chart, rendered to PNG with Pillow."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date
from typing import Final

from PIL import Image, ImageDraw, ImageFont

WIDTH: Final = 800
HEIGHT: Final = 360
MARGIN: Final = (50, 40, 20, 60)  # left, top, right, bottom
BACKGROUND: Final = (255, 255, 255)
BAR: Final = (88, 101, 242)  # Discord blurple
INK: Final = (40, 40, 40)
GRID: Final = (225, 225, 225)


def sessions_per_week_png(weeks: Sequence[tuple[date, int]], *, title: str) -> bytes:
    """A PNG bar chart, one bar per week (labelled with its Monday)."""
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default()
    left, top, right, bottom = MARGIN
    plot_w, plot_h = WIDTH - left - right, HEIGHT - top - bottom
    draw.text((left, 12), title, fill=INK, font=font)
    peak = max((n for _, n in weeks), default=0)
    scale_top = max(peak, 1)
    steps = min(scale_top, 5)
    for i in range(steps + 1):
        value = round(scale_top * i / steps)
        y = top + plot_h - plot_h * value / scale_top
        draw.line((left, y, left + plot_w, y), fill=GRID)
        draw.text((left - 30, y - 6), str(value), fill=INK, font=font)
    if weeks:
        slot = plot_w / len(weeks)
        bar_w = max(2.0, slot * 0.7)
        every = max(1, len(weeks) // 12)  # at most about 12 labels
        for index, (monday, count) in enumerate(weeks):
            x0 = left + index * slot + (slot - bar_w) / 2
            y0 = top + plot_h - plot_h * count / scale_top
            if count:
                draw.rectangle((x0, y0, x0 + bar_w, top + plot_h), fill=BAR)
            if index % every == 0:
                draw.text((x0, top + plot_h + 8), monday.strftime("%d %b"), fill=INK, font=font)
    draw.line((left, top + plot_h, left + plot_w, top + plot_h), fill=INK)
    draw.text((left, HEIGHT - 24), "Sessions per week (week starting)", fill=INK, font=font)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
