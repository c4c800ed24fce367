"""The similarity report as files: an HTML page (zh/en) and a CSV beside it.

The page ranks the pairs over the threshold, shows each pair's code side by side per level with
the shared spans marked (yellow: only these two have it; blue: a public source has it too), lists
the pairs alike only through public sources, each student's public-source matches, and what was
not compared. Everything from a submission (names, code, notes) is escaped: it is hostile text.
"""
import csv
import html
import io

from autograder.messages import t
from autograder.similarity.compare import ALL

CSV_FORMULA = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet runs a cell that starts so


def percent(x) -> str:
    return f"{x:.0%}"


def _marked(text: str, shared: list, public: list) -> str:
    """`text` escaped, with <mark> around the spans (shared first where they overlap)."""
    marks = sorted([(a, b, "shared") for a, b in shared] + [(a, b, "public") for a, b in public])
    out, at = [], 0
    for a, b, kind in marks:
        a = max(a, at)
        if a >= b:
            continue
        out.append(html.escape(text[at:a]))
        out.append(f'<mark class="{kind}">{html.escape(text[a:b])}</mark>')
        at = b
    out.append(html.escape(text[at:]))
    return "".join(out)


def _part_name(part: str) -> str:
    if part == ALL:
        return t("整体", "overall")
    if part == "other_cells":
        return t("其他单元格", "other cells")
    return part


def public_note(match) -> str:
    """"matches a public source: d2l_attention.py (100%)": the sources that hold most of it."""
    return f"{t('与公开来源一致', 'matches a public source')}: {', '.join(match.sources)} ({percent(match.share)})"


def _pair_detail(result, pair, rank: int) -> str:
    esc = html.escape
    rows = []
    for part in result.parts:
        match = pair.matches.get(part)
        if part == ALL or match is None or not (match.shared or match.public):
            continue
        a, b = (result.prints[student][part] for student in (pair.a, pair.b))
        marked_a, marked_b = (_marked(p.text, p.spans_of(match.shared), p.spans_of(match.public)) for p in (a, b))
        rows.append(
            f"<h4>{esc(_part_name(part))}: {percent(match.score)}"
            f" <small>({esc(t('含公开来源', 'with public sources'))}: {percent(match.public_score)})</small></h4>"
            f'<div class="side"><div><b>{esc(pair.a)}</b><pre>{marked_a}</pre></div>'
            f'<div><b>{esc(pair.b)}</b><pre>{marked_b}</pre></div></div>')
    return (f'<section id="pair{rank}"><h3>#{rank} {esc(pair.a)} ↔ {esc(pair.b)}: {percent(pair.score)}</h3>'
            + "".join(rows) + "</section>")


def _pair_table(result, pairs, anchors: bool) -> str:
    """Ranked pairs; `anchors`: pairs shown side by side below (scores without public code), else
    pairs alike through public sources (scores with it)."""
    esc = html.escape
    head = "".join(f"<th>{esc(_part_name(p))}</th>" for p in result.parts)
    body = []
    for rank, pair in enumerate(pairs, 1):
        score = (lambda m: m.score) if anchors else (lambda m: m.public_score)
        cells = "".join(f"<td>{percent(score(pair.matches[p])) if p in pair.matches else '·'}</td>"
                        for p in result.parts)
        who = f"{esc(pair.a)} ↔ {esc(pair.b)}"
        if anchors:
            who = f'<a href="#pair{rank}">{who}</a>'
        top = pair.score if anchors else pair.public_score
        body.append(f"<tr><td>{rank}</td><td>{who}</td><td><b>{percent(top)}</b></td>{cells}</tr>")
    if not body:
        return f"<p>{esc(t('无', 'none'))}</p>"
    return (f"<table><thead><tr><th>#</th><th>{esc(t('两位学生', 'pair'))}</th><th>{esc(t('最高', 'max'))}</th>"
            f"{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")


def html_page(result, spec, settings) -> str:
    esc = html.escape
    shown = result.pairs[:settings.max_pairs_shown]
    public_items = "".join(
        f"<li><b>{esc(student)}</b>: "
        + "; ".join(f"{esc(_part_name(p))}: {esc(public_note(m))}" for p, m in by_part.items())
        + "</li>" for student, by_part in result.public.items() if by_part) or "<li>-</li>"
    not_compared = "".join(f"<li><b>{esc(s.student)}</b>: {esc('; '.join(s.notes))}</li>"
                           for s in result.students if s.notes) or "<li>-</li>"
    empty_items = "".join(f"<li><b>{esc(student)}</b>: {esc(', '.join(map(_part_name, parts)))}</li>"
                          for student, parts in result.empty.items() if parts) or "<li>-</li>"
    details = "".join(_pair_detail(result, pair, rank) for rank, pair in enumerate(shown, 1))
    more = ""
    if len(result.pairs) > len(shown):
        hidden = len(result.pairs) - len(shown)
        more = f"<p>{esc(t(f'另有 {hidden} 对见 CSV', f'{hidden} more pairs in the CSV'))}</p>"
    caveat = t("分数高只说明值得看一看，不是结论：相同的代码可能来自同一份公开资料、课堂讲解或同一种自然写法。"
               "请对照两份代码再判断。",
               "A high score is a reason to look, not a verdict: alike code can come from the same public page, "
               "the lecture, or the one natural way to write it. Read both sides before deciding.")
    not_compared_title = t("未比较的关卡（未作答、太短或只有答案）",
                           "Levels not compared (untouched, too short, or answers only)")
    return f"""<!DOCTYPE html>
<html lang="zh"><head><meta charset="utf-8"><title>{esc(t("查重", "Similarity"))}: {esc(spec.folder)}</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<style>body{{font-family:'WenQuanYi Micro Hei','Noto Sans CJK SC',sans-serif;margin:2em}}
table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}}
td:nth-child(2),th:nth-child(2){{text-align:left}}.side{{display:flex;gap:1em}}.side>div{{flex:1;min-width:0}}
pre{{background:#f7f7f7;padding:6px;overflow-x:auto;font-size:12px}}mark.shared{{background:#ffe066}}
mark.public{{background:#cfe3ff}}.caveat{{border-left:4px solid #e6a700;padding:4px 10px;background:#fff8e1}}</style>
</head><body>
<h1>{esc(t("查重报告", "Similarity report"))}: {esc(spec.folder)}</h1>
<p class="caveat">{esc(caveat)}</p>
<p>{len(result.students)} {esc(t("份提交", "submissions"))}, {result.compared_pairs} {esc(t("对", "pairs"))};
{esc(t("阈值", "threshold"))} {percent(settings.threshold)};
k = {settings.k}, {esc(t("窗口", "window"))} {settings.window}.
{esc(t("分数：两人共有、且不在模板、全班通用代码或公开来源中的代码，占较小一方自己代码的比例。",
       "Score: the share of the smaller side's own code (not the scaffold, not code most of the class has, "
       "not a public source) that the other side has too."))}
<mark class="shared">{esc(t("仅两人共有", "only these two"))}</mark>
<mark class="public">{esc(t("公开来源中也有", "also in a public source"))}</mark></p>
<h2>{esc(t("相似的提交", "Alike pairs"))} ({len(result.pairs)})</h2>
{_pair_table(result, shown, anchors=True)}{more}
<h2>{esc(t("仅因公开来源而相似（不是互相抄袭）", "Alike only through public sources (not each other)"))}
({len(result.public_pairs)})</h2>
{_pair_table(result, result.public_pairs[:settings.max_pairs_shown], anchors=False)}
<h2>{esc(t("与公开来源一致", "Matches a public source"))}</h2><ul>{public_items}</ul>
<h2>{esc(not_compared_title)}</h2><ul>{empty_items}</ul>
<h2>{esc(t("读取时的问题", "Reading problems"))}</h2><ul>{not_compared}</ul>
<h2>{esc(t("逐对对照", "Side by side"))}</h2>
{details}
</body></html>
"""


def _cell(value) -> str:
    text = str(value)
    return "'" + text if text.startswith(CSV_FORMULA) else text


def csv_text(result) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["rank", "kind", "student_a", "student_b", "score", "with_public", *result.parts,
                     "public_sources"])
    rows = [("shared", p) for p in result.pairs] + [("public", p) for p in result.public_pairs]
    for rank, (kind, pair) in enumerate(rows, 1):
        sources = sorted({name for m in pair.matches.values() for h in m.public
                          for name in result.public_hashes.get(h, ())})
        writer.writerow([_cell(x) for x in (
            rank, kind, pair.a, pair.b, f"{pair.score:.3f}", f"{pair.public_score:.3f}",
            *(f"{pair.matches[p].score:.3f}" if p in pair.matches else "" for p in result.parts),
            " ".join(sources))])
    return out.getvalue()
