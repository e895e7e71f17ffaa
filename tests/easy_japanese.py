"""Reading a page as a reader of やさしい日本語 reads it: every kanji shown must carry furigana.

``unread_kanji(html)`` lists each piece of shown text with a kanji outside <ruby> — text,
the page's title, an option, the texts a browser or a screen reader shows from attributes
(alt, aria-label, title, placeholder, the meta description). Inside <ruby> the base is read
through its <rt>. Values of form fields are what the resident typed, not the page's words.
``bracketed_readings`` lists headings that give a reading in brackets (申請（しんせい）)
instead of furigana.
"""

import re
from html.parser import HTMLParser

from transfer import ruby

KANJI = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆]")
# A kanji word followed by its reading in brackets.
BRACKETED = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff々]+\s*[（(][\u3041-\u309f\u30a0-\u30ffー\s]+[）)]")
SHOWN_ATTRIBUTES = ("alt", "aria-label", "title", "placeholder")
HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6", "title", "legend")


class _Reader(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.unread: list[str] = []
        self.headings: list[str] = []
        self.open: list[str] = []      # the elements we are inside
        self.heading_text: list[list[str]] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name in SHOWN_ATTRIBUTES:
            if KANJI.search(attributes.get(name) or ""):
                self.unread.append(f"<{tag} {name}>: {attributes[name]}")
        if tag == "meta" and attributes.get("name") == "description" \
                and KANJI.search(attributes.get("content") or ""):
            self.unread.append(f"meta description: {attributes['content']}")
        if tag in HEADINGS:
            self.heading_text.append([])
        if tag not in ("meta", "link", "input", "br", "img"):
            self.open.append(tag)

    def handle_endtag(self, tag):
        if tag in HEADINGS and self.heading_text:
            self.headings.append("".join(self.heading_text.pop()))
        if tag in self.open:
            while self.open and self.open.pop() != tag:
                pass

    def handle_data(self, data):
        if {"rt", "rp", "script", "style"} & set(self.open):
            return
        for text in self.heading_text:
            text.append(data)
        if "ruby" not in self.open and KANJI.search(data):
            self.unread.append(f"{'/'.join(self.open[-3:])}: {data.strip()}")


def read(html: str) -> _Reader:
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return reader


def unread_kanji(html: str) -> list[str]:
    return read(html).unread


def bracketed_readings(html: str) -> list[str]:
    return [text for text in read(html).headings if BRACKETED.search(text)]


def unread_in_markup(text: str) -> list[str]:
    """The same, for a text in furigana markup (``{漢字|かんじ}``) as wording is typed."""
    return unread_kanji(ruby.to_html(text))
