"""A cumulative progress chart drawn on the server as SVG: no script, no external asset.

LGWAN terminals often cannot reach the internet, so no chart library from a CDN; and an
SVG with <title>/<desc> plus the data table beside it is readable by screen readers.
"""

from xml.sax.saxutils import escape

from intranet.charts import value_axis, vertical_scale

WIDTH, HEIGHT = 720, 280
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 40

# Colours with at least 3:1 contrast against white (WCAG 1.4.11), told apart by dash too.
SERIES = (
    ("received", "#1d4ed8", ""),
    ("decided", "#b45309", "8 4"),
    ("paid", "#047857", "2 3"),
)


def progress_svg(days, labels: dict[str, str], title: str, element_id: str = "chart") -> str:
    if not days:
        return ""
    peak = max(max(d.received, d.decided, d.paid) for d in days) or 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(i):
        return LEFT + (plot_w * i / max(len(days) - 1, 1))

    y = vertical_scale(peak, TOP, plot_h)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{element_id}-title" class="chart">',
        f'<title id="{element_id}-title">{escape(title)}</title>',
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" '
        'stroke="#555"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="#555"/>',
    ]
    parts.extend(value_axis(peak, y, LEFT))
    for i in (0, len(days) - 1):
        parts.append(f'<text x="{x(i):.1f}" y="{HEIGHT - 20}" text-anchor="middle" '
                     f'font-size="12" fill="#333">{days[i].day.isoformat()}</text>')
    for n, (key, colour, dash) in enumerate(SERIES):
        points = " ".join(f"{x(i):.1f},{y(getattr(d, key)):.1f}" for i, d in enumerate(days))
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2.5"{dash_attr} '
                     f'points="{points}"/>')
        lx = LEFT + n * 180
        parts.append(f'<line x1="{lx}" y1="{HEIGHT - 6}" x2="{lx + 24}" y2="{HEIGHT - 6}" '
                     f'stroke="{colour}" stroke-width="2.5"{dash_attr}/>')
        parts.append(f'<text x="{lx + 30}" y="{HEIGHT - 2}" font-size="12" fill="#333">'
                     f'{escape(labels[key])}</text>')
    parts.append("</svg>")
    return "".join(parts)
