"""A resident's first visit asks for more than the page: nothing of it is a 404."""

import pytest


def test_favicon_and_robots_are_served_and_may_be_kept(mirror):
    icon = mirror.get("/favicon.ico", status=200)
    assert icon.content_type == "image/vnd.microsoft.icon" and icon.body[:4] == b"\x00\x00\x01\x00"
    assert icon.headers["Cache-Control"] == "public, max-age=86400"
    robots = mirror.get("/robots.txt", status=200)
    assert robots.content_type == "text/plain"
    assert robots.text == ("User-agent: *\nDisallow: /lookup\nDisallow: /api/\n"
                           "Disallow: /healthz\n")
    assert mirror.get("/static/favicon.svg", status=200).body.startswith(b"<svg")


def test_robots_names_the_sites_own_paths_under_its_prefix(public_host):
    public_host.publish()
    app = public_host.app(**{"mirror.public_base_url": "https://www.city.example.lg.jp/shinsei"})
    assert "Disallow: /shinsei/lookup\n" in app.get("/robots.txt").text


@pytest.mark.parametrize("lang, description", [
    ("ja", "受付番号を入力すると、給付金の申請状況を確認できます。 テスト市"),
    ("en", "Enter your receipt number to see the status of your benefit application. Test City"),
    ("ja-easy", "うけつけばんごうを かくと、きゅうふきんの しんせいが いま どう なって いるか わかります。"),
])
def test_every_page_describes_itself_and_links_its_icon(mirror, lang, description):
    for page in (mirror.get("/", {"lang": lang}),
                 mirror.post("/lookup", {"programme": "p2020", "receipt_number": "00000099",
                                         "lang": lang})):
        assert f'<meta name="description" content="{description}' in page.text
        assert '<link rel="icon" href="/favicon.ico" sizes="32x32">' in page.text
        assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page.text
