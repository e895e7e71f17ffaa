"""WCAG contrast ratios, checked against known pairs."""

import pytest

from public_mirror.contrast import ContrastError, contrast_ratio, require_contrast
from public_mirror.ratelimit import RateLimiter, client_address


def test_known_ratios():
    assert round(contrast_ratio("#000000", "#ffffff"), 1) == 21.0
    assert round(contrast_ratio("#767676", "#ffffff"), 2) == 4.54


def test_failing_pair_is_refused_with_the_ratio():
    with pytest.raises(ContrastError, match=r"below the 4\.5:1"):
        require_contrast("brand", "#ffffff", "#66aaff")
    with pytest.raises(ContrastError, match="not a colour"):
        require_contrast("brand", "white", "#000000")


def test_sliding_window():
    now = [0.0]
    limiter = RateLimiter(3, 60, clock=lambda: now[0])
    assert [limiter.allow("a")[0] for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("b")[0]
    now[0] = 61
    assert limiter.allow("a")[0]


def test_forwarded_address_only_via_trusted_proxy():
    environ = {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "1.2.3.4, 10.0.0.1"}
    assert client_address(environ, {"10.0.0.1"}) == "1.2.3.4"
    assert client_address(environ, set()) == "10.0.0.1"
