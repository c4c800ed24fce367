"""A level's verdict as a check cell's outputs: a 评测 table, then the score as the last result.

nbgrader reads the first `execute_result` as the cell's partial credit, so the score goes
there as a plain float in [0, points]; the table is display data before it, and keeps the level's
result in its metadata (VERDICT_KEY) so feedback can render it again. Nothing goes to stderr (any
stderr in a grade cell scores 0).
"""
import html

import nbformat

import course_config
from autograder.engine.result import Level
from autograder.messages import t

VERDICT_KEY = "course_verdict"  # the table's output metadata: {"level": ..., "notes": [...]}
# Long inputs wrap inside their column instead of squeezing the others to nothing.
_TABLE = "table-layout:auto;width:100%;border-collapse:collapse"
_CELL = "text-align:left;vertical-align:top;padding:2px 6px;border-bottom:1px solid #ddd"
_CODE = "white-space:pre-wrap;overflow-wrap:anywhere;word-break:break-word"
_WIDTHS = ("18%", "34%", "20%", "20%", "8%")  # check, input, expected, got, result


def verdict_outputs(result: Level, problems=(), show_expected=None) -> list:
    """[display_data (table), execute_result (score)] for one level of a grading result.
    show_expected: whether answer keys are shown (default: course_config.SHOW_EXPECTED)."""
    if show_expected is None:
        show_expected = course_config.SHOW_EXPECTED
    level = result.as_dict()
    notes = ([level["problem"]] if level["problem"] else []) + list(problems)
    checks = [_shown(check, show_expected) for check in level["checks"]]
    table = nbformat.v4.new_output("display_data", data={"text/plain": _text(level, checks, notes),
                                                         "text/html": _html(level, checks, notes)},
                                   metadata={VERDICT_KEY: {"level": level, "notes": list(problems)}})
    score = nbformat.v4.new_output("execute_result", data={"text/plain": repr(float(level["score"]))},
                                   execution_count=None)
    return [table, score]


def _shown(check: dict, show_expected: bool) -> dict:
    if not check.get("answer_key") or show_expected:
        return check
    return {**check, "expected": t("（截止后公开）", "(shown after the deadline)"),
            "message": check.get("message_without_answer") or check["message"]}


def headline(level: dict) -> str:
    status = t("通过", "passed") if level["score"] == level["points"] else t("未通过", "not passed")
    passed = sum(check["passed"] for check in level["checks"])
    return (f"{t('评测', 'Check')} {level['level']}: {status} — {passed}/{len(level['checks'])} "
            f"{t('项检查', 'checks')}, {level['score']:g}/{level['points']:g} {t('分', 'points')}")


def _text(level, checks, notes):
    lines = [headline(level)] + [f"! {note}" for note in notes]
    for check in checks:
        lines.append(f"{'✓' if check['passed'] else '✗'} {check['name']}")
        if check["input"]:
            lines.append(f"    {t('输入', 'input')}: {check['input']}")
        if not check["passed"]:
            if check["expected"]:
                lines.append(f"    {t('期望', 'expected')}: {check['expected']}")
            if check["got"]:
                lines.append(f"    {t('实际', 'got')}: {check['got']}")
            lines.append(f"    → {check['message']}")
    return "\n".join(lines)


def _html(level, checks, notes):
    esc = html.escape
    heads = (t("检查", "check"), t("输入", "input"), t("期望", "expected"), t("实际", "got"), t("结果", "result"))
    head = "".join(f'<th style="{_CELL};width:{w}">{esc(h)}</th>' for h, w in zip(heads, _WIDTHS))
    body = []
    for c in checks:
        mark = '<span style="color:#080">✓</span>' if c["passed"] else '<span style="color:#c00">✗</span>'
        codes = "".join(f'<td style="{_CELL}"><code style="{_CODE}">{esc(c[k])}</code></td>'
                        for k in ("input", "expected", "got"))
        body.append(f'<tr><td style="{_CELL}">{esc(c["name"])}</td>{codes}<td style="{_CELL}">{mark}</td></tr>')
        if not c["passed"]:
            body.append(f'<tr><td colspan="5" style="{_CELL}">→ {esc(c["message"])}</td></tr>')
    notes_html = "".join(f'<p style="color:#c00">{esc(note)}</p>' for note in notes)
    return (f"<p><b>{esc(headline(level))}</b></p>{notes_html}"
            f'<table class="course-verdict" style="{_TABLE}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table>")
