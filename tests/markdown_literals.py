"""What a markdown cell's reader must see: every `*`, `_` and `\\` that its source meant literally.

A `*` or `_` that is not in a code span or in math can be eaten by the markdown renderer as
emphasis ("(B*h, N, D/h) ... b*h + i" renders as "(Bh, N, D/h) ... bh + i" with italics between).
The tests count these characters in the source (as the author meant them) and in what a renderer
shows, and fail on any difference.
"""
import re
from collections import Counter
from html.parser import HTMLParser

MARKS = "*_\\"
# Spans whose characters are shown as written: fenced code, code spans, display and inline math.
VERBATIM = re.compile(r"```.*?```|`[^`\n]+`|\$\$.*?\$\$|\$[^$\n]+\$", re.S)
MATH = re.compile(r"^\$")


def intended(source: str, math_shown: bool) -> Counter:
    """The marks a reader should see. math_shown: the renderer leaves math as text (nbconvert's
    HTML before MathJax); otherwise math is typeset and its marks are not counted."""
    counts = Counter()
    position = 0
    for span in VERBATIM.finditer(source):
        counts += _prose(source[position:span.start()])
        text = span.group()
        if not MATH.match(text) or math_shown:
            counts += Counter(c for c in text if c in MARKS)
        position = span.end()
    return counts + _prose(source[position:])


def _prose(text: str) -> Counter:
    text = re.sub(r"^\s*[-*+] ", "", text, flags=re.M)  # list bullets
    text = text.replace("**", "")  # bold, meant as markup
    text = re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text)  # a backslash escape shows the character alone
    return Counter(c for c in text if c in MARKS)


def shown(html: str) -> Counter:
    """The marks in the text of rendered HTML (tags, attributes and scripts left out)."""
    parser = _Text()
    parser.feed(html)
    return Counter(c for c in "".join(parser.parts) if c in MARKS)


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag):
        self._skip -= tag in ("script", "style") and self._skip > 0

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)
