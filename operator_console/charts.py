"""Server-rendered SVG charts for the analytics page (no JavaScript, no CDN)."""

from __future__ import annotations

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

PALETTE = ["#2563eb", "#16a34a", "#d97706", "#9333ea", "#dc2626", "#0891b2", "#64748b"]


def _svg_open(title: str, width: int, height: int) -> str:
    return (
        f'<svg class="chart" role="img" aria-label="{escape(title)}" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
        f'<text x="0" y="16" font-weight="bold" font-size="14">{escape(title)}</text>'
    )


def bar_chart(
    title: str, items: list[tuple[str, float | None]], *, percent: bool = False
) -> SafeString:
    """Horizontal bars, one per (label, value); None shows as "n/a"."""
    width, row, label_w = 560, 26, 180
    height = row * max(len(items), 1) + 34
    top = max((v for _, v in items if v is not None), default=0) or 1
    parts = [_svg_open(title, width, height)]
    for index, (label, value) in enumerate(items):
        y = 28 + index * row
        scale = 1 if percent else top
        bar = 0 if value is None else max(value / scale * (width - label_w - 70), 0)
        shown = "n/a" if value is None else (f"{value * 100:.1f}%" if percent else f"{value:,.0f}")
        colour = PALETTE[index % len(PALETTE)]
        parts.append(f'<text x="0" y="{y + 15}" font-size="12">{escape(label)}</text>')
        parts.append(
            f'<rect x="{label_w}" y="{y + 3}" width="{bar:.1f}" '
            f'height="{row - 8}" fill="{colour}"/>'
        )
        parts.append(
            f'<text x="{label_w + bar + 6:.1f}" y="{y + 15}" font-size="12">{shown}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 (every label and title is escaped above)


def stacked_columns(title: str, series: list[dict[str, object]]) -> SafeString:
    """One column per week, stacked by persona: ``[{"week": ..., "counts": {...}}]``."""
    if not series:
        return format_html('<p class="chart-empty">{}: no data in this range.</p>', title)
    keys = sorted({k for point in series for k in point["counts"]})  # type: ignore[attr-defined]
    width, height, left, bottom = 560, 240, 30, 40
    column = (width - left) / len(series)
    top = max(sum(point["counts"].values()) for point in series) or 1  # type: ignore[attr-defined]
    parts = [_svg_open(title, width, height + 60)]
    for index, point in enumerate(series):
        y = height
        for key_index, key in enumerate(keys):
            value = point["counts"].get(key, 0)  # type: ignore[attr-defined]
            bar = value / top * (height - bottom)
            y -= bar
            x = left + index * column + 4
            colour = PALETTE[key_index % len(PALETTE)]
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{column - 8:.1f}" height="{bar:.1f}" '
                f'fill="{colour}"><title>{escape(key)}: {value}</title></rect>'
            )
        week = escape(str(point["week"])[5:])
        x = left + index * column + 4
        parts.append(f'<text x="{x:.1f}" y="{height + 14}" font-size="10">{week}</text>')
    for key_index, key in enumerate(keys):
        x = left + (key_index % 3) * 180
        y = height + 32 + (key_index // 3) * 14
        colour = PALETTE[key_index % len(PALETTE)]
        parts.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{x + 14}" y="{y}" font-size="11">{escape(key)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 (every label and title is escaped above)
