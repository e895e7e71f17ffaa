"""WCAG 2.x contrast ratio: a municipality's colours are checked before the page starts."""

import re

_HEX = re.compile(r"^#([0-9a-fA-F]{6})$")


class ContrastError(ValueError):
    pass


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def luminance(colour: str) -> float:
    match = _HEX.match(colour)
    if not match:
        raise ContrastError(f"{colour!r} is not a colour like #0b4f8a")
    raw = match.group(1)
    r, g, b = (int(raw[i:i + 2], 16) for i in (0, 2, 4))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_ratio(foreground: str, background: str) -> float:
    lighter, darker = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def require_contrast(name: str, foreground: str, background: str, minimum: float = 4.5):
    ratio = contrast_ratio(foreground, background)
    if ratio < minimum:
        raise ContrastError(
            f"{name}: {foreground} on {background} has contrast {ratio:.2f}:1, below the "
            f"{minimum}:1 that WCAG 2.2 AA (JIS X 8341-3) requires for text")
