"""Student HTML made inert wherever nbgrader's HTML exporter shows it (feedback, formgrader).

A submission's outputs and markdown are the student's: as written they could run script in the
instructor's formgrader session (the Jupyter origin) or in a student's feedback page. Three layers,
all on nbconvert's HTMLExporter (course_config turns them on for every nbgrader command):

- `InertOutputs`, a preprocessor: what the templates would run, load or place unescaped goes
  first (javascript and widget outputs, widget state, file names, `isolated` frames, non-numeric
  image sizes and prompts, grade ids outside [A-Za-z0-9_-]; cell tags and ids too).
- `clean` (nh3, the Rust ammonia sanitiser), nbconvert's `clean_html` filter under
  `sanitize_html`: every text/html output and every rendered markdown text (`markdown2html`, which
  formgrader's own markdown cells use without `clean_html`) keeps an allow-list of tags,
  attributes, URL schemes and CSS properties: no script, no `on*`, no `javascript:`, no iframe,
  no inline SVG (an SVG output is shown as an <img>, where it cannot run).
- A restrictive Content-Security-Policy in each page's <head> (templates/course_feedback and
  templates/course_formgrade).
"""
import re

import jinja2
import nh3
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from nbconvert.preprocessors import Preprocessor

# What the templates can show of an output; everything else (application/javascript, widget views,
# PDFs, custom renderers) is dropped.
SHOWN = ("text/plain", "text/html", "text/markdown", "text/latex", "image/png", "image/jpeg", "image/svg+xml")
_OUTPUT_KEYS = ("output_type", "data", "metadata", "name", "text", "execution_count", "ename", "evalue",
                "traceback")
_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_IMAGE_DATA = re.compile(r"data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]*")

_MATHML = {"math", "semantics", "annotation", "mrow", "mi", "mo", "mn", "ms", "mtext", "mspace", "msub", "msup",
           "msubsup", "mfrac", "msqrt", "mroot", "munder", "mover", "munderover", "mtable", "mtr", "mtd",
           "mstyle", "mpadded", "mphantom", "menclose", "merror"}
_MATHML_ATTRIBUTES = {"display", "mathvariant", "stretchy", "fence", "separator", "lspace", "rspace", "minsize",
                      "maxsize", "columnalign", "rowspacing", "columnspacing", "width", "height", "depth",
                      "linethickness", "accent", "accentunder", "movablelimits", "displaystyle", "scriptlevel",
                      "notation", "form", "symmetric", "largeop", "encoding", "linebreak"}
# Layout and colour only: nothing that positions over the page or loads a URL.
_STYLE = {"color", "background-color", "font-weight", "font-style", "font-family", "font-size", "text-align",
          "vertical-align", "text-decoration", "white-space", "word-break", "overflow-wrap", "width",
          "min-width", "max-width", "height", "padding", "padding-left", "padding-right", "padding-top",
          "padding-bottom", "margin", "margin-left", "margin-right", "margin-top", "margin-bottom", "border",
          "border-bottom", "border-top", "border-left", "border-right", "border-collapse", "border-spacing",
          "table-layout", "display", "line-height"}
_CLEANER = nh3.Cleaner(
    tags=nh3.ALLOWED_TAGS | _MATHML,
    clean_content_tags={"script", "style"},
    attributes={**nh3.ALLOWED_ATTRIBUTES, "*": {"class", "title", "lang", "dir", "style"},
                "math": {"display", "xmlns"}, **{tag: _MATHML_ATTRIBUTES for tag in _MATHML - {"math"}}},
    attribute_filter=lambda tag, name, value: _attribute(tag, name, value),
    url_schemes={"http", "https", "mailto", "data"},
    filter_style_properties=_STYLE,
    url_relative="deny",  # a relative src would ask the Jupyter server (formgrader) for it
    link_rel="noopener noreferrer nofollow",
)


def _attribute(tag: str, name: str, value: str):
    """A data: URL only as an image's source, and only a raster image's."""
    if value.strip().lower().startswith("data:") and not (tag == "img" and name == "src"
                                                          and _IMAGE_DATA.fullmatch(value.strip())):
        return None
    return value


def clean(html) -> str:
    """`html` (a student's fragment) with only inert tags, attributes, URLs and styles left."""
    return _CLEANER.clean(html.decode() if isinstance(html, bytes) else str(html))


@jinja2.pass_context
def markdown2html(context, source: str) -> str:
    """nbconvert's markdown2html (attachments as data: images; no heading anchors: ids are
    not kept), then `clean`."""
    cell = context.get("cell", {})
    renderer = IPythonRenderer(escape=False, attachments=cell.get("attachments", {}), exclude_anchor_links=True,
                               path=context.get("resources", {}).get("metadata", {}).get("path", ""))
    return clean(MarkdownWithMath(renderer=renderer).render(source))


class InertOutputs(Preprocessor):
    """Drops what nbconvert's templates would run, load or place unescaped, before they render;
    whatever is not of the type nbformat says is dropped too (a submission's notebook is read as
    it came)."""

    def preprocess(self, nb, resources):
        nb.metadata.pop("widgets", None)
        for index, cell in enumerate(nb.cells):
            if "id" in cell and not _NAME.fullmatch(str(cell.id)):
                cell.id = f"cell-{index}"
            grader = cell.metadata.get("nbgrader")
            if isinstance(grader, dict) and "grade_id" in grader and not _NAME.fullmatch(str(grader["grade_id"])):
                grader["grade_id"] = f"cell-{index}"  # nbgrader's templates write it into id and href
            if "tags" in cell.metadata:
                tags = cell.metadata.tags if isinstance(cell.metadata.tags, list) else []
                cell.metadata.tags = [tag for tag in tags if _NAME.fullmatch(str(tag))]
            if "execution_count" in cell:
                cell.execution_count = _count(cell.execution_count)
            if "outputs" in cell:
                outputs = cell.outputs if isinstance(cell.outputs, list) else []
                kept = (_inert(output) for output in outputs if isinstance(output, dict))
                cell.outputs = [output for output in kept if output.get("data", True)]
        return nb, resources


def _inert(output):
    output = type(output)({key: value for key, value in output.items() if key in _OUTPUT_KEYS})
    if "data" in output:
        data = output.data if isinstance(output.data, dict) else {}
        output.data = type(data)({mime: value for mime, value in data.items() if mime in SHOWN})
    if "execution_count" in output:
        output.execution_count = _count(output.execution_count)
    if "metadata" in output:
        metadata = output.metadata if isinstance(output.metadata, dict) else {}
        output.metadata = type(metadata)({mime: _image_metadata(value) if mime in SHOWN else value
                                          for mime, value in metadata.items() if mime != "filenames"})
    return output


def _image_metadata(value):
    """An output's per-type metadata: sizes that are numbers, `unconfined` and `alt` (escaped by
    the templates); no `isolated` (an iframe)."""
    if not isinstance(value, dict):
        return {}
    kept = {key: value[key] for key in ("width", "height") if isinstance(value.get(key), (int, float))
            and not isinstance(value[key], bool)}
    kept.update({key: value[key] for key in ("unconfined", "alt") if isinstance(value.get(key), (bool, str))})
    return type(value)(kept)


def _count(count):
    return count if isinstance(count, int) and not isinstance(count, bool) else None
