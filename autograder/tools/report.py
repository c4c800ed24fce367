"""How a class did on one assignment: per-level pass rate and score distribution, and the
submissions that had problems, with their reasons.

    python -m autograder.tools.report 01_multihead_attention [--course DIR] [--out DIR]

Scores come from the course's gradebook.db (what `nbgrader export` exports); problems from the
autograded notebooks (the `! ...` lines the judge writes into every check cell's verdict).
Prints a table, and writes into --out (default: artifacts/report/ in the course):
  report_<assignment>.html  self-contained: the plot (inline SVG), the tables, the problems
  report_<assignment>.svg   the plot alone, for a slide
  report_<assignment>.png   the same plot, rendered by headless Chromium where it is installed
Nothing hidden goes in: only scores, level names and the verdict's own messages.
"""
import argparse
import html
import shutil
import subprocess
import sys
import tempfile
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import nbformat

import course_config
from autograder.messages import t

GREEN, AMBER, RED, GREY = "#2e9e44", "#e6a700", "#d0342c", "#555"
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars")


@dataclass
class LevelStats:
    name: str
    points: float
    scores: list  # one per graded submission

    @property
    def pass_rate(self) -> float:  # the share of submissions with full marks
        return sum(s == self.points for s in self.scores) / len(self.scores) if self.scores else 0.0

    @property
    def mean(self) -> float:
        return sum(self.scores) / len(self.scores) if self.scores else 0.0

    @property
    def distribution(self) -> dict:  # {score: number of submissions}, every score from 0 up
        counts = Counter(self.scores)
        return {score: counts[score] for score in sorted({0.0, float(self.points), *counts})}

    def shares(self):  # (full, partial, zero) as fractions of the submissions
        n = len(self.scores) or 1
        full = sum(s == self.points for s in self.scores)
        zero = sum(s == 0 for s in self.scores)
        return full / n, (len(self.scores) - full - zero) / n, zero / n


# ---------------------------------------------------------------- reading the course

def class_scores(course: Path, spec) -> dict:
    """{student: {level: score}} for every submission of `spec` in the course's gradebook."""
    from nbgrader.api import Gradebook
    scores = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", course_id=course_config.COURSE_ID) as gb:
        for submission in gb.assignment_submissions(spec.folder):
            notebook = next(nb for nb in submission.notebooks if nb.name == spec.name)
            grades = {g.name: g.score for g in notebook.grades}
            scores[submission.student_id] = {lv.name: float(grades.get(f"check_{lv.name}") or 0)
                                             for lv in spec.levels}
    return dict(sorted(scores.items()))


def submission_problems(course: Path, spec) -> tuple:
    """({student: [reason]}, [grading warnings]) from the autograded notebooks and submitted/.

    A reason is a `! ...` line of a check cell's verdict, once per submission. Warnings about
    the grading machine (no sandbox...) are the same for everyone: they are listed once."""
    problems, warnings = {}, []
    submitted = course / "submitted"
    students = sorted(p.name for p in submitted.iterdir() if (p / spec.folder).is_dir()) \
        if submitted.is_dir() else []
    for student in students:
        path = course / "autograded" / student / spec.folder / f"{spec.name}.ipynb"
        if not path.exists():
            problems[student] = [t("未能自动评分（见 nbgrader autograde 的日志），导出时记为 0 分",
                                   "not autograded (see nbgrader autograde's log); exports as 0")]
            continue
        reasons = []
        for line in _verdict_lines(nbformat.read(path, as_version=4)):
            if line.startswith("! "):
                reason = line[2:].strip()
                target = warnings if reason.startswith(("警告", "WARNING")) else reasons
                if reason not in target:
                    target.append(reason)
        if reasons:
            problems[student] = reasons
    return problems, warnings


def _verdict_lines(nb):
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            for output in cell.get("outputs", []):
                yield from output.get("data", {}).get("text/plain", "").splitlines()


def level_stats(spec, scores: dict) -> list:
    return [LevelStats(lv.name, float(lv.points), [scores[s][lv.name] for s in scores]) for lv in spec.levels]


# ---------------------------------------------------------------- the terminal table

def terminal_report(spec, stats, scores, problems, warnings) -> str:
    total_points = sum(s.points for s in stats)
    totals = [sum(levels.values()) for levels in scores.values()]
    mean_total = sum(totals) / len(totals) if totals else 0.0
    header = (t("关卡", "level"), t("满分", "points"), t("通过率", "pass rate"), t("平均", "mean"),
              t("分数分布", "distribution") + " (score: n)")
    rows = [(s.name, f"{s.points:g}", f"{s.pass_rate:.0%}", f"{s.mean:.2f}",
             "  ".join(f"{score:g}: {n}" for score, n in s.distribution.items())) for s in stats]
    rows.append((t("总分", "total"), f"{total_points:g}", f"{_share(totals, total_points):.0%}",
                 f"{mean_total:.2f}", ""))
    widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(4)]
    lines = [f"== {spec.folder}: {len(scores)} {t('份提交', 'submissions')}", ""]
    for r in [header, *rows]:
        cells = [_pad(r[0], widths[0])] + [_pad(r[i], widths[i], right=True) for i in (1, 2, 3)]
        lines.append("  ".join(cells + [r[4]]).rstrip())
    lines += ["", f"{t('有问题的提交', 'Submissions with problems')} ({len(problems)}):"]
    lines += [f"  {student}: " + "; ".join(reasons) for student, reasons in problems.items()] or ["  -"]
    lines += [f"{t('评分环境警告', 'Grading warning')}: {w}" for w in warnings]
    return "\n".join(lines)


def _width(text) -> int:  # columns in a terminal: Chinese characters take two
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text, width, right=False) -> str:
    space = " " * (width - _width(text))
    return space + text if right else text + space


def _share(totals, total_points):
    return sum(x == total_points for x in totals) / len(totals) if totals else 0.0


# ---------------------------------------------------------------- the plot (SVG)

def plot_svg(spec, stats, scores) -> str:
    """Two panels, for a slide: each level's full / partial / zero shares (pass rate written
    beside), and the histogram of total scores."""
    row, top, label_w, bar_w = 34, 70, 210, 360
    height = max(top + row * len(stats) + 70, 330)
    px, pw = label_w + bar_w + 250, 340  # the histogram's left edge and width
    width = px + pw + 30
    esc = html.escape
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="WenQuanYi Micro Hei, Noto Sans CJK SC, '
           f'DejaVu Sans, sans-serif" font-size="14">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="16" y="28" font-size="19" font-weight="bold">{esc(spec.folder)}: '
           f'{esc(t("各关通过率", "pass rate per level"))} ({len(scores)} {esc(t("份提交", "submissions"))})</text>']
    # Left panel: one stacked bar per level.
    for i, s in enumerate(stats):
        y = top + i * row
        out.append(f'<text x="{label_w - 8}" y="{y + 17}" text-anchor="end">{esc(s.name)}</text>')
        x = label_w
        for share, colour in zip(s.shares(), (GREEN, AMBER, RED)):
            if share > 0:
                out.append(f'<rect x="{x:.1f}" y="{y + 3}" width="{share * bar_w:.1f}" height="{row - 10}" '
                           f'fill="{colour}"/>')
                x += share * bar_w
        out.append(f'<text x="{label_w + bar_w + 8}" y="{y + 17}">{s.pass_rate:.0%}  '
                   f'<tspan fill="{GREY}">({esc(t("均", "mean"))} {s.mean:.2g}/{s.points:g})</tspan></text>')
    legend_y = top + row * len(stats) + 20
    for j, (colour, zh, en) in enumerate(((GREEN, "满分", "full marks"), (AMBER, "部分得分", "partial"),
                                          (RED, "0 分", "zero"))):
        x = label_w + j * 130
        out.append(f'<rect x="{x}" y="{legend_y}" width="12" height="12" fill="{colour}"/>'
                   f'<text x="{x + 17}" y="{legend_y + 11}" font-size="12">{esc(t(zh, en))}</text>')
    # Right panel: histogram of total scores, one bar per whole point.
    totals = [sum(levels.values()) for levels in scores.values()]
    total_points = int(round(sum(s.points for s in stats)))
    counts = Counter(min(int(x), total_points) for x in totals)
    py, ph = top + 20, height - top - 90
    peak = max(counts.values(), default=1)
    out.append(f'<text x="{px}" y="{top - 4}" font-weight="bold">{esc(t("总分分布", "total scores"))}</text>')
    out.append(f'<line x1="{px}" y1="{py + ph}" x2="{px + pw}" y2="{py + ph}" stroke="{GREY}"/>')
    step = pw / (total_points + 1)
    for score in range(total_points + 1):
        n = counts.get(score, 0)
        h = ph * n / peak
        x = px + score * step
        if n:
            out.append(f'<rect x="{x + 2:.1f}" y="{py + ph - h:.1f}" width="{step - 4:.1f}" height="{h:.1f}" '
                       f'fill="#3b6fb6"/><text x="{x + step / 2:.1f}" y="{py + ph - h - 4:.1f}" '
                       f'text-anchor="middle" font-size="12">{n}</text>')
        if total_points <= 12 or score % 2 == 0:
            out.append(f'<text x="{x + step / 2:.1f}" y="{py + ph + 16}" text-anchor="middle" '
                       f'font-size="12">{score}</text>')
    out.append(f'<text x="{px + pw / 2}" y="{py + ph + 36}" text-anchor="middle" font-size="12" '
               f'fill="{GREY}">{esc(t("总分", "total score"))} / {total_points}</text>')
    out.append("</svg>")
    return "\n".join(out)


# ---------------------------------------------------------------- the HTML page and the PNG

def html_report(spec, stats, scores, problems, warnings, svg) -> str:
    esc = html.escape
    level_rows = "".join(
        f"<tr><td>{esc(s.name)}</td><td>{s.points:g}</td><td>{s.pass_rate:.0%}</td><td>{s.mean:.2f}</td>"
        f"<td>{esc('  '.join(f'{k:g}: {n}' for k, n in s.distribution.items()))}</td></tr>" for s in stats)
    head = "".join(f"<th>{esc(s.name)}</th>" for s in stats)
    student_rows = "".join(
        f"<tr><td>{esc(student)}</td>" + "".join(f"<td>{levels[s.name]:g}</td>" for s in stats)
        + f"<td><b>{sum(levels.values()):g}</b></td></tr>" for student, levels in scores.items())
    problem_items = "".join(f"<li><b>{esc(student)}</b>: {esc('; '.join(reasons))}</li>"
                            for student, reasons in problems.items()) or "<li>-</li>"
    warning_items = "".join(f'<p class="warn">{esc(w)}</p>' for w in warnings)
    return f"""<!DOCTYPE html>
<html lang="zh"><head><meta charset="utf-8"><title>{esc(spec.folder)}</title>
<style>body{{font-family:'WenQuanYi Micro Hei','Noto Sans CJK SC',sans-serif;margin:2em;max-width:1100px}}
table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:4px 10px;text-align:right}}
td:first-child,th:first-child{{text-align:left}}.warn{{color:#c00}}</style></head><body>
<h1>{esc(t("班级报告", "Class report"))}: {esc(spec.folder)}</h1>
<p>{len(scores)} {esc(t("份提交", "submissions"))}</p>
{svg}
<h2>{esc(t("各关统计", "Per level"))}</h2>
<table><thead><tr><th>{esc(t("关卡", "level"))}</th><th>{esc(t("满分", "points"))}</th>
<th>{esc(t("通过率", "pass rate"))}</th><th>{esc(t("平均", "mean"))}</th>
<th>{esc(t("分数分布", "distribution"))} (score: n)</th></tr></thead><tbody>{level_rows}</tbody></table>
<h2>{esc(t("有问题的提交", "Submissions with problems"))} ({len(problems)})</h2>
<ul>{problem_items}</ul>{warning_items}
<h2>{esc(t("每位学生", "Per student"))}</h2>
<table><thead><tr><th>{esc(t("学生", "student"))}</th>{head}<th>{esc(t("总分", "total"))}</th></tr></thead>
<tbody>{student_rows}</tbody></table>
</body></html>
"""


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def render_png(svg_path: Path, png_path: Path, size: tuple) -> bool:
    """The SVG as a PNG, by headless Chromium; False where there is none (or it fails)."""
    chromium = find_chromium()
    if not chromium:
        return False
    png_path.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                        f"--window-size={size[0]},{size[1]}", f"--screenshot={png_path}",
                        svg_path.resolve().as_uri()], capture_output=True, timeout=60)
    return png_path.exists()


def write_report(course: Path, spec, out: Path) -> dict:
    """Everything above for one assignment; returns the paths written and the figures."""
    scores = class_scores(course, spec)
    problems, warnings = submission_problems(course, spec)
    stats = level_stats(spec, scores)
    svg = plot_svg(spec, stats, scores)
    out.mkdir(parents=True, exist_ok=True)
    paths = {kind: out / f"report_{spec.folder}.{kind}" for kind in ("html", "svg", "png")}
    paths["html"].write_text(html_report(spec, stats, scores, problems, warnings, svg), encoding="utf-8")
    paths["svg"].write_text(svg, encoding="utf-8")
    size = tuple(int(v) for v in svg.split('viewBox="0 0 ', 1)[1].split('"', 1)[0].split())
    if not render_png(paths["svg"], paths["png"], size):
        del paths["png"]
    return {"paths": paths, "stats": stats, "scores": scores, "problems": problems, "warnings": warnings,
            "text": terminal_report(spec, stats, scores, problems, warnings)}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder.tools.report", description=__doc__.split("\n")[0])
    parser.add_argument("assignment", help="folder (01_multihead_attention) or name (multihead_attention)")
    parser.add_argument("--course", type=Path, default=course_config.ROOT, help="the course root (gradebook.db)")
    parser.add_argument("--out", type=Path, help="where the files go (default: COURSE/artifacts/report)")
    args = parser.parse_args(argv)
    spec = course_config.assignment(args.assignment)
    course = args.course.resolve()
    if not (course / "gradebook.db").exists():
        sys.exit(f"no gradebook.db in {course}: run `nbgrader autograde {spec.folder}` there first")
    report = write_report(course, spec, args.out or course / "artifacts" / "report")
    print(report["text"])
    print()
    for kind, path in report["paths"].items():
        print(f"{kind}: {path}")
    if "png" not in report["paths"]:
        print(t("（未生成 PNG：本机没有 chromium；apt-get install chromium）",
                "(no PNG: chromium is not installed here; apt-get install chromium)"))


if __name__ == "__main__":
    main()
