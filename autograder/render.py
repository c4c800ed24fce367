"""A level's verdict as a check cell's outputs: a 评测 table, then the score as the last result.

nbgrader reads the first `execute_result` as the cell's partial credit, so the score goes
there as a plain float in [0, points]; the table is display data before it. Nothing goes to
stderr (any stderr in a grade cell scores 0).
"""
import html

import nbformat

from autograder.messages import t


def verdict_outputs(result, problems=()) -> list:
    """[display_data (table), execute_result (score)] for a judge.LevelResult."""
    text, rows = _text(result, problems), _html(result, problems)
    table = nbformat.v4.new_output("display_data", data={"text/plain": text, "text/html": rows})
    score = nbformat.v4.new_output("execute_result", data={"text/plain": repr(result.score)},
                                   execution_count=None)
    return [table, score]


def headline(result) -> str:
    status = t("通过", "passed") if result.score == result.points else t("未通过", "not passed")
    passed = sum(c.passed for c in result.checks)
    return (f"{t('评测', 'Check')} {result.level}: {status} — {passed}/{len(result.checks)} "
            f"{t('项检查', 'checks')}, {result.score:g}/{result.points:g} {t('分', 'points')}")


def _text(result, problems):
    lines = [headline(result)]
    lines += [f"! {p}" for p in ([result.problem] if result.problem else []) + list(problems)]
    for check in result.checks:
        mark = "✓" if check.passed else "✗"
        lines.append(f"{mark} {check.name}")
        if check.input:
            lines.append(f"    {t('输入', 'input')}: {check.input}")
        if not check.passed:
            if check.expected:
                lines.append(f"    {t('期望', 'expected')}: {check.expected}")
            if check.got:
                lines.append(f"    {t('实际', 'got')}: {check.got}")
            lines.append(f"    → {check.message}")
    return "\n".join(lines)


def _html(result, problems):
    esc = html.escape
    head = "".join(f"<th>{esc(h)}</th>" for h in (
        t("检查", "check"), t("输入", "input"), t("期望", "expected"), t("实际", "got"), t("结果", "result")))
    body = []
    for c in result.checks:
        mark = '<span style="color:#080">✓</span>' if c.passed else '<span style="color:#c00">✗</span>'
        body.append(f"<tr><td>{esc(c.name)}</td><td><code>{esc(c.input)}</code></td>"
                    f"<td><code>{esc(c.expected)}</code></td><td><code>{esc(c.got)}</code></td>"
                    f"<td>{mark}</td></tr>")
        if not c.passed:
            body.append(f'<tr><td colspan="5" style="text-align:left">→ {esc(c.message)}</td></tr>')
    notes = "".join(f'<p style="color:#c00">{esc(p)}</p>'
                    for p in ([result.problem] if result.problem else []) + list(problems))
    return (f"<p><b>{esc(headline(result))}</b></p>{notes}"
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")
