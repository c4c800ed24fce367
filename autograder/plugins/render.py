"""A level's verdict as a check cell's outputs: a 评测 table, then the score as the last result.

nbgrader reads the first `execute_result` as the cell's partial credit, so the score goes
there as a plain float in [0, points]; the table is display data before it. Nothing goes to
stderr (any stderr in a grade cell scores 0).
"""
import html

import nbformat

from autograder.messages import t


def verdict_outputs(level: dict, problems=()) -> list:
    """[display_data (table), execute_result (score)] for one level of a grading result
    (`LevelResult.as_dict()`: level, points, score, problem, checks)."""
    notes = ([level["problem"]] if level["problem"] else []) + list(problems)
    table = nbformat.v4.new_output("display_data", data={"text/plain": _text(level, notes),
                                                         "text/html": _html(level, notes)})
    score = nbformat.v4.new_output("execute_result", data={"text/plain": repr(float(level["score"]))},
                                   execution_count=None)
    return [table, score]


def headline(level: dict) -> str:
    status = t("通过", "passed") if level["score"] == level["points"] else t("未通过", "not passed")
    passed = sum(check["passed"] for check in level["checks"])
    return (f"{t('评测', 'Check')} {level['level']}: {status} — {passed}/{len(level['checks'])} "
            f"{t('项检查', 'checks')}, {level['score']:g}/{level['points']:g} {t('分', 'points')}")


def _text(level, notes):
    lines = [headline(level)] + [f"! {note}" for note in notes]
    for check in level["checks"]:
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


def _html(level, notes):
    esc = html.escape
    head = "".join(f"<th>{esc(h)}</th>" for h in (
        t("检查", "check"), t("输入", "input"), t("期望", "expected"), t("实际", "got"), t("结果", "result")))
    body = []
    for c in level["checks"]:
        mark = '<span style="color:#080">✓</span>' if c["passed"] else '<span style="color:#c00">✗</span>'
        body.append(f"<tr><td>{esc(c['name'])}</td><td><code>{esc(c['input'])}</code></td>"
                    f"<td><code>{esc(c['expected'])}</code></td><td><code>{esc(c['got'])}</code></td>"
                    f"<td>{mark}</td></tr>")
        if not c["passed"]:
            body.append(f'<tr><td colspan="5" style="text-align:left">→ {esc(c["message"])}</td></tr>')
    notes_html = "".join(f'<p style="color:#c00">{esc(note)}</p>' for note in notes)
    return (f"<p><b>{esc(headline(level))}</b></p>{notes_html}"
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")
