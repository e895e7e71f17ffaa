"""The relief chart: online lookups and the call centre's opened records per day, as bars
drawn on the server (no script, no external asset), with <title> and <desc> for screen
readers; the table beside it holds every figure.
"""

from xml.sax.saxutils import escape

from intranet.charts import value_axis, vertical_scale

WIDTH, HEIGHT = 720, 300
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 56

# Colours with at least 3:1 contrast against white (WCAG 1.4.11); the second series is
# hatched as well, so the two are told apart without colour.
SERIES = (("lookups", "#1d4ed8", ""), ("views", "#b45309", "url(#relief-hatch)"))


def relief_svg(days, labels: dict[str, str], title: str, desc: str,
               element_id: str = "relief") -> str:
    if not days:
        return ""
    peak = max(max(d.lookups, d.views) for d in days) or 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / len(days)
    bar = max(slot / 2 - 1, 1)

    y = vertical_scale(peak, TOP, plot_h)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{element_id}-title {element_id}-desc" class="chart">',
        f'<title id="{element_id}-title">{escape(title)}</title>',
        f'<desc id="{element_id}-desc">{escape(desc)}</desc>',
        '<defs><pattern id="relief-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#b45309"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#fff" stroke-width="2"/></pattern></defs>',
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" '
        'stroke="#555"/>',
    ]
    parts.extend(value_axis(peak, y, LEFT))
    for i, day in enumerate(days):
        x = LEFT + slot * i
        for n, (key, colour, pattern) in enumerate(SERIES):
            value = getattr(day, key)
            parts.append(f'<rect x="{x + n * bar:.1f}" y="{y(value):.1f}" width="{bar:.1f}" '
                         f'height="{TOP + plot_h - y(value):.1f}" fill="{pattern or colour}"/>')
    # The first and last days, held inside the plot's edges (centred under the last bar,
    # the date ran past the drawing and was cut: 「2026-12-0」).
    for day, x, anchor in ((days[0], LEFT, "start"), (days[-1], WIDTH - RIGHT, "end")):
        parts.append(f'<text x="{x}" y="{TOP + plot_h + 18}" text-anchor="{anchor}" '
                     f'font-size="12" fill="#333">{day.day.isoformat()}</text>')
    for n, (key, colour, pattern) in enumerate(SERIES):
        lx = LEFT + n * 260
        parts.append(f'<rect x="{lx}" y="{HEIGHT - 18}" width="16" height="12" '
                     f'fill="{pattern or colour}"/>')
        parts.append(f'<text x="{lx + 22}" y="{HEIGHT - 8}" font-size="12" fill="#333">'
                     f'{escape(labels[key])}</text>')
    parts.append("</svg>")
    return "".join(parts)
