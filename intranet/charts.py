"""What the staff pages' charts share: the vertical scale from 0 to the peak, and the value
axis labelled at 0, half and the peak (intranet.dashboard.chart, intranet.usage.chart)."""

from collections.abc import Callable


def vertical_scale(peak: int, top: float, height: float) -> Callable[[float], float]:
    """The y of a value in a plot ``height`` high whose top is at ``top``: 0 at the bottom."""
    def y(value: float) -> float:
        return top + height - height * value / peak
    return y


def value_axis(peak: int, y: Callable[[float], float], left: float) -> list[str]:
    """The axis' three labels, right-aligned just left of the plot."""
    return [f'<text x="{left - 6}" y="{y(value) + 4:.1f}" text-anchor="end" '
            f'font-size="12" fill="#333">{value:,}</text>'
            for value in (round(peak * fraction) for fraction in (0, 0.5, 1))]
