"""A hostile submission's HTML and script, and its honest twin, for the tests of student HTML made
inert (tests/test_inert_html.py without a browser, tests/test_browser_inert.py in Chromium).

Every payload, if it ever ran, would leave its name in `window.__pwned`, set `document.title` to
"pwned" and ask for the URL /pwned/<name>: the tests look for all three. The honest twin shows what
a real notebook shows (a matplotlib plot as PNG, an HTML table, bold text, printed text), which must
still render.
"""
from html.parser import HTMLParser

import nbformat


def run(name: str) -> str:
    """The script a payload tries to run."""
    return (f"window.__pwned=(window.__pwned||[]).concat(['{name}']);document.title='pwned';"
            f"fetch('/pwned/{name}').catch(function(){{}})")


def _display(data: dict, metadata: dict) -> str:
    return f"IPython.display.display({data!r}, raw=True, metadata={metadata!r})"


_SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20" onload="{0}">'
        '<script>{0}</script><rect width="20" height="20"/></svg>')
# (data, metadata) of display outputs: each output type a template could place as HTML or run.
HOSTILE_OUTPUTS = [
    ({"text/html": f"<script>{run('html-script')}</script><b>bold</b>"}, {}),
    ({"text/html": f'<img src="x" onerror="{run("img-onerror")}">'}, {}),
    ({"text/html": f'<a id="js-link" href="javascript:{run("javascript-url")}">click</a>'}, {}),
    ({"text/html": f'<iframe srcdoc="&lt;script&gt;parent.{run("iframe-srcdoc")}&lt;/script&gt;"></iframe>'
                   f'<iframe src="javascript:parent.{run("iframe-src")}"></iframe>'}, {}),
    ({"text/html": f"<script>{run('isolated')}</script>"}, {"text/html": {"isolated": True}}),
    ({"text/html": _SVG.format(run("inline-svg"))}, {}),
    ({"image/svg+xml": _SVG.format(run("svg-output"))}, {}),
    ({"application/javascript": run("javascript-output")}, {}),
    ({"text/markdown": f'<img src="x" onerror="{run("markdown-output")}">'}, {}),
    ({"image/png": "iVBORw0KGgo=", "text/plain": "png"}, {"image/png": {"width": f"1 onerror={run('png-width')}"}}),
    ({"application/vnd.jupyter.widget-view+json": {"model_id": "x", "version_major": 2, "version_minor": 0},
      "text/plain": "widget"}, {}),
    ({"text/html": f'<details open ontoggle="{run("details-ontoggle")}">d</details>'
                   f'<object data="javascript:{run("object")}"></object>'
                   f'<embed src="javascript:{run("embed")}">'
                   f'<form action="javascript:{run("form")}"><button id="form-button">go</button></form>'
                   '<base href="http://127.0.0.1:9/">'
                   '<style>body { display: none }</style>'
                   '<meta http-equiv="refresh" content="0; url=/pwned/refresh">'}, {}),
]
HOSTILE_CODE = [_display(data, metadata) for data, metadata in HOSTILE_OUTPUTS]
HOSTILE_MARKDOWN = (
    "## Raw HTML in a markdown cell\n\n"
    f"<script>{run('markdown-script')}</script>\n\n"
    f'<img src="x" onerror="{run("markdown-img")}">\n\n'
    f"[a javascript link](javascript:{run('markdown-link')})\n\n"
    f'<a href="javascript:{run("markdown-a")}">another</a>\n\n'
    f'<svg onload="{run("markdown-svg")}"></svg>\n'
)
HOSTILE_NAMES = ["html-script", "img-onerror", "javascript-url", "iframe-srcdoc", "iframe-src", "isolated",
                 "inline-svg", "svg-output", "javascript-output", "markdown-output", "png-width", "details-ontoggle",
                 "object", "embed", "form", "markdown-script", "markdown-img", "markdown-link", "markdown-a",
                 "markdown-svg", "grade-id"]

HONEST_TABLE = "<table class='honest-table'><tr><th>n</th><th>loss</th></tr><tr><td>42</td><td>0.125</td></tr></table>"
HONEST_CODE = [
    ("import matplotlib\nmatplotlib.use('module://matplotlib_inline.backend_inline')\n"
     "import matplotlib.pyplot as plt\nplt.figure(figsize=(3, 2))\nplt.plot([0, 1, 2], [0, 1, 4])\nplt.show()"),
    f"IPython.display.display(IPython.display.HTML({HONEST_TABLE!r}))",
    "IPython.display.display(IPython.display.HTML('<b class=\"honest-bold\">bold and honest</b>'))",
    "print('honest text <b>not a tag</b>')",
]
HONEST_MARKDOWN = "## An honest note\n\nThe loss **falls**: see the *plot* above."


def add_cells(nb, code: list, markdown: str):
    """`nb` with `code` cells (after `import IPython`) and a `markdown` cell appended."""
    nb.cells.append(nbformat.v4.new_code_cell("import IPython"))
    nb.cells += [nbformat.v4.new_code_cell(source) for source in code]
    nb.cells.append(nbformat.v4.new_markdown_cell(markdown))


FORGED_GRADE_ID = f'x"><img src=x onerror="{run("grade-id")}'


def hostile(nb):
    add_cells(nb, HOSTILE_CODE, HOSTILE_MARKDOWN)
    # A cell that claims to be a manually graded answer, its grade id made to break out of id="...".
    nb.cells.append(nbformat.v4.new_markdown_cell("forged", metadata={"nbgrader": {
        "grade_id": FORGED_GRADE_ID, "grade": True, "solution": True, "points": 1, "locked": False,
        "schema_version": 3}}))


def honest(nb):
    add_cells(nb, HONEST_CODE, HONEST_MARKDOWN)


class _Live(HTMLParser):
    """What in a page could run script, embed a page or leave it: (tag, attribute, value) found."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found = []

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "iframe", "object", "embed", "svg", "base", "form", "frame", "applet"):
            self.found.append((tag, "", ""))
        for name, value in attrs:
            value = (value or "").strip().lower()
            if name.startswith("on") or value.startswith(("javascript:", "vbscript:", "data:text")) or (
                    name == "http-equiv" and value == "refresh") or name == "srcdoc":
                self.found.append((tag, name, value[:60]))


def live(html: str) -> list:
    """Every element or attribute of `html` that could run script, embed a page or leave it."""
    parser = _Live()
    parser.feed(html)
    return parser.found
