"""The residents' link per programme (/p/<code>) and its QR code on the programme screen."""

import re

import pytest
import segno

from intranet.programmes.link import residents_link
from tests.factories import make_programme

PUBLIC = "https://www.city.example.lg.jp/shinsei"


@pytest.fixture
def app_settings(app_settings):
    return {**app_settings, "shinsei.public_url": PUBLIC + "/"}


def test_the_programme_screen_shows_the_link_and_its_qr_code(as_role, session_factory):
    programme_id = make_programme(session_factory, code="bukka-2024")
    page = as_role("supervisor").get(f"/programmes/{programme_id}")
    assert f'<a href="{PUBLIC}/p/bukka-2024">' in page.text
    svg = re.search(r"<svg.*?</svg>", page.text, re.S).group(0)
    assert "<script" not in svg and "の照会画面へのQRコード" in svg
    # The same QR code segno makes for the link: what a phone reads is the link itself.
    expected = segno.make(f"{PUBLIC}/p/bukka-2024", error="m", micro=False)
    assert expected.svg_inline(scale=4, border=4, dark="#000", light="#fff").split(
        "<path")[1] in svg



def test_without_the_public_address_there_is_no_link_to_print():
    assert residents_link("", "bukka-2024") is None
    assert residents_link(PUBLIC, "a b/c") == PUBLIC + "/p/a%20b%2Fc"
