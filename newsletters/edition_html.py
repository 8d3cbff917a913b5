"""Staff-written edition HTML made safe to show, and its plain-text twin.

Staff are trusted to write the newsletter, not to run script in readers' mail apps or on our
pages: the HTML goes through nh3 (the Rust ammonia sanitiser) before it reaches either. Emails
keep inline styles (mail apps need them); the public archive page drops them, since the site
sends no inline style under its Content-Security-Policy.
"""

import re
from html.parser import HTMLParser

import nh3

_TAGS = set(nh3.ALLOWED_TAGS) | {"center", "font"}
_EMAIL_ATTRIBUTES: dict[str, set[str]] = {
    **{tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()},
    "*": {"style", "align", "dir", "lang", "title"},
    "a": {"href", "hreflang", "title"},
    "table": {"width", "cellpadding", "cellspacing", "border", "align", "role", "bgcolor"},
    "td": {"width", "align", "valign", "colspan", "rowspan", "bgcolor"},
    "font": {"color", "face", "size"},
}
_PAGE_ATTRIBUTES: dict[str, set[str]] = {
    **{tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()},
    "*": {"dir", "lang", "title"},
}
# Properties an email may set inline; anything else (url(), expression(), position) is dropped.
_STYLE_PROPERTIES = {
    "background",
    "background-color",
    "border",
    "border-bottom",
    "border-collapse",
    "border-left",
    "border-radius",
    "border-right",
    "border-top",
    "color",
    "display",
    "font",
    "font-family",
    "font-size",
    "font-style",
    "font-weight",
    "height",
    "letter-spacing",
    "line-height",
    "margin",
    "margin-bottom",
    "margin-left",
    "margin-right",
    "margin-top",
    "max-width",
    "padding",
    "padding-bottom",
    "padding-left",
    "padding-right",
    "padding-top",
    "text-align",
    "text-decoration",
    "text-transform",
    "vertical-align",
    "width",
}
_SCHEMES = {"http", "https", "mailto"}
_DROP_WITH_CONTENT = {"script", "style", "iframe", "object", "embed", "template", "noscript"}


def clean_for_email(html: str) -> str:
    """Staff HTML as it may go into an email: no script, no event handlers, no odd links."""
    return nh3.clean(
        html,
        tags=_TAGS,
        clean_content_tags=_DROP_WITH_CONTENT,
        attributes=_EMAIL_ATTRIBUTES,
        url_schemes=_SCHEMES,
        filter_style_properties=_STYLE_PROPERTIES,
        link_rel="noopener",
    )


def clean_for_page(html: str) -> str:
    """Staff HTML as it may appear on a public page: as above, and no inline styles either.

    Headings move down a level: the page's own h1 is the edition's subject.
    """
    return _demote_headings(_clean_for_page(html))


def _demote_headings(html: str) -> str:
    # nh3's output is normalised (lower-case tags, no stray brackets), so a pattern is safe.
    return re.sub(
        r"<(/?)h([1-6])\b", lambda m: f"<{m.group(1)}h{min(int(m.group(2)) + 1, 6)}", html
    )


def _clean_for_page(html: str) -> str:
    return nh3.clean(
        html,
        tags=_TAGS - {"center", "font"},
        clean_content_tags=_DROP_WITH_CONTENT,
        attributes=_PAGE_ATTRIBUTES,
        url_schemes=_SCHEMES,
        link_rel="noopener noreferrer",
    )


_BLOCKS = {
    "p",
    "div",
    "table",
    "tr",
    "ul",
    "ol",
    "blockquote",
    "pre",
    "section",
    "article",
    "header",
    "footer",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
}


class _TextMaker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.href: list[str | None] = []
        self.link_text: list[str] = []
        self.hidden = 0
        self.pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROP_WITH_CONTENT or tag == "head":
            self.hidden += 1
        elif tag in _BLOCKS:
            self.parts.append("\n\n")
            self.pre += tag == "pre"
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag in {"td", "th"}:
            self.parts.append(" ")
        elif tag == "hr":
            self.parts.append("\n\n----\n\n")
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.parts.append(alt)
        elif tag == "a":
            self.href.append(dict(attrs).get("href"))
            self.link_text.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROP_WITH_CONTENT or tag == "head":
            self.hidden = max(0, self.hidden - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n\n")
            self.pre -= tag == "pre" and self.pre > 0
        elif tag == "a" and self.href:
            href, text = self.href.pop(), self.link_text.pop()
            if href and href.startswith(("http://", "https://", "mailto:")):
                shown = href.removeprefix("mailto:")
                if shown.strip() != text.strip():
                    self.parts.append(f" ({shown})")

    def handle_data(self, data: str) -> None:
        if self.hidden:
            return
        text = data if self.pre else re.sub(r"\s+", " ", data)
        if self.link_text:
            self.link_text[-1] += text
        if self.parts and self.parts[-1].endswith("\n") and not self.pre:
            text = text.lstrip()
        self.parts.append(text)


def html_to_text(html: str) -> str:
    """A readable plain-text version of an HTML body: paragraphs, lists, links as URLs."""
    maker = _TextMaker()
    maker.feed(html)
    maker.close()
    text = "".join(maker.parts)
    lines = [line.rstrip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
