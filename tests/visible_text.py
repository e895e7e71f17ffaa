"""What a person reads on a page: its text nodes, without markup, attribute values,
scripts or (optionally) the contents of given elements such as a technical-details toggle."""

from html.parser import HTMLParser

VOID = {"area", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
        "wbr"}


class _Text(HTMLParser):
    def __init__(self, skip_classes):
        super().__init__(convert_charrefs=True)
        self.parts, self.skip_classes, self.skipping = [], set(skip_classes), []

    def handle_starttag(self, tag, attrs):
        classes = set((dict(attrs).get("class") or "").split())
        if tag in VOID:
            return
        if self.skipping or tag in ("script", "style") or classes & self.skip_classes:
            self.skipping.append(tag)

    def handle_endtag(self, tag):
        if self.skipping and self.skipping[-1] == tag:
            self.skipping.pop()

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def visible_text(html: str, skip_classes=()) -> str:
    """The page's text; elements with one of ``skip_classes`` left out with their content."""
    parser = _Text(skip_classes)
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())
