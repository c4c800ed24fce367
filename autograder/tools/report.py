"""How a class did on one assignment: per-level pass rate and score distribution, and the
submissions that had problems, with their reasons.

    python -m autograder.tools.report 01_multihead_attention [--course DIR] [--out DIR]

It reads structured results only, never the verdict text in the autograded notebooks:
  scores    the course's gradebook (<course>/gradebook.db, through nbgrader.api.Gradebook), with
            each submission's late penalty (course_config's LatePolicy, autograder/late.py)
  problems  the results `nbgrader autograde` saves, one JSON per graded submission:
            <course>/grading_results/<assignment>/<student>.json (its "problems" list, and its
            "isolation" warnings about the grading machine, listed once for the class)
A folder in submitted/ with neither a result nor a gradebook entry is listed as not autograded.

Prints a table, and writes into --out (default: artifacts/report/ in the course):
  report_<assignment>.html  self-contained: the plot (inline SVG), the tables, the problems
  report_<assignment>.svg   the plot alone (matplotlib), for a slide
  report_<assignment>.png   the same plot as an image
The page links to similarity_<assignment>.html (`python -m autograder.tools.similarity`) when it
is there.
Nothing hidden goes in: only scores, level names and the results' own messages.
"""
import argparse
import html
import json
import logging
import sys
import unicodedata
import warnings
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import course_config
from autograder.messages import t

RESULTS = "grading_results"  # where autograde saves them (autograder/plugins/exporter.py, not imported: slow)
GREEN, AMBER, RED, BLUE, GREY = "#2e9e44", "#e6a700", "#d0342c", "#3b6fb6", "#555555"
FONTS = ("WenQuanYi Micro Hei", "Noto Sans CJK SC", "DejaVu Sans")  # preferred first, where found
CJK_FONTS = ("WenQuanYi Micro Hei", "Noto Sans CJK SC")
NOT_AUTOGRADED = ("未能自动评分（见 nbgrader autograde 的日志），导出时记为 0 分",
                  "not autograded (see nbgrader autograde's log); exports as 0")


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
    """{student: {level: score}} for every submission of `spec` in the course's gradebook
    (none where there is no gradebook.db yet)."""
    from nbgrader.api import Gradebook
    db = course / "gradebook.db"
    if not db.exists():  # Gradebook would create an empty one
        return {}
    scores = {}
    with Gradebook(f"sqlite:///{db}", course_id=course_config.COURSE_ID) as gb:
        for submission in gb.assignment_submissions(spec.folder):
            notebook = next(nb for nb in submission.notebooks if nb.name == spec.name)
            grades = {g.name: g.score for g in notebook.grades}
            scores[submission.student_id] = {lv.name: float(grades.get(f"check_{lv.name}") or 0)
                                             for lv in spec.levels}
    return dict(sorted(scores.items()))


def late_penalties(course: Path, spec) -> dict:
    """{student: points taken for lateness} of the submissions of `spec` that lost any."""
    from nbgrader.api import Gradebook
    db = course / "gradebook.db"
    if not db.exists():
        return {}
    with Gradebook(f"sqlite:///{db}", course_id=course_config.COURSE_ID) as gb:
        return {submission.student_id: float(submission.late_submission_penalty)
                for submission in gb.assignment_submissions(spec.folder) if submission.late_submission_penalty}


def grading_results(course: Path, spec) -> dict:
    """{student: result} from grading_results/<assignment>/*.json (an unreadable file counts as none)."""
    results = {}
    for path in sorted((course / RESULTS / spec.folder).glob("*.json")):
        try:
            results[path.stem] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
    return results


def submitted_students(course: Path, spec) -> list:
    """The students with a folder for `spec` in submitted/."""
    submitted = course / "submitted"
    if not submitted.is_dir():
        return []
    return sorted(p.name for p in submitted.iterdir() if (p / spec.folder).is_dir())


def submission_problems(course: Path, spec) -> tuple:
    """({student: [reason]}, [grading warnings]) from the grading results and submitted/.

    A submission's reasons are its result's "problems", once each, in order. Warnings about the
    grading machine (no sandbox...) are the same for everyone: they are listed once."""
    results = grading_results(course, spec)
    graded = set(results) | set(class_scores(course, spec))
    problems, warnings_ = {}, []
    for student in sorted(set(results) | set(submitted_students(course, spec))):
        if student not in graded:
            problems[student] = [t(*NOT_AUTOGRADED)]
            continue
        result = results.get(student, {})
        reasons = list(dict.fromkeys(result.get("problems") or []))
        if reasons:
            problems[student] = reasons
        warnings_ += (result.get("isolation") or {}).get("warnings") or []
    return problems, list(dict.fromkeys(warnings_))


def level_stats(spec, scores: dict) -> list:
    return [LevelStats(lv.name, float(lv.points), [scores[s][lv.name] for s in scores]) for lv in spec.levels]


# ---------------------------------------------------------------- the terminal table

def terminal_report(spec, stats, scores, problems, warnings, penalties=None) -> str:
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
    if penalties:
        after = sum(totals) - sum(penalties.values())
        lines += ["", t(f"迟交 {len(penalties)} 份，共扣 {sum(penalties.values()):g} 分；扣分后平均 "
                        f"{after / len(totals):.2f}",
                        f"late: {len(penalties)} submissions, {sum(penalties.values()):g} points off in all; mean "
                        f"after the penalties {after / len(totals):.2f}")]
        lines += [f"  {student}: -{points:g}" for student, points in penalties.items()]
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


# ---------------------------------------------------------------- the plot (matplotlib)

def label(zh: str, en: str, cjk: bool = True) -> str:
    """A plot label in the course's language(s); English alone where no font draws Chinese."""
    return t(zh, en) if cjk else en


def available_fonts() -> list:
    """The names in FONTS that matplotlib finds on this machine, in order."""
    from matplotlib import font_manager
    found = {font.name for font in font_manager.fontManager.ttflist}
    return [name for name in FONTS if name in found]


@contextmanager
def quiet_matplotlib():
    """Nothing on stderr from matplotlib's fonts: no "Glyph ... missing", no font-cache notice."""
    logger = logging.getLogger("matplotlib.font_manager")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            yield
    finally:
        logger.setLevel(level)


def plot(spec, stats, scores, svg_path: Path, png_path: Path):
    """One figure, two panels, saved as SVG and PNG: each level's full / partial / zero shares
    (pass rate written beside), and the histogram of total scores."""
    with quiet_matplotlib():
        import matplotlib
        matplotlib.use("Agg")  # files only, no display
        from matplotlib import pyplot as plt
        fonts = available_fonts()
        cjk = any(name in CJK_FONTS for name in fonts)
        rc = {"font.family": fonts or ["sans-serif"], "axes.unicode_minus": False,
              "svg.hashsalt": spec.folder}  # the same ids in the SVG on every run
        with plt.rc_context(rc):
            fig, (bars, hist) = plt.subplots(1, 2, figsize=(13, max(4.0, 0.55 * len(stats) + 2.4)),
                                             width_ratios=(3, 2), layout="constrained")
            fig.suptitle(f"{spec.folder}: {len(scores)} {label('份提交', 'submissions', cjk)}",
                         fontweight="bold")
            _level_bars(bars, stats, cjk)
            _total_histogram(hist, stats, scores, cjk)
            fig.savefig(svg_path, format="svg", metadata={"Date": None})
            fig.savefig(png_path, format="png", dpi=150)
            plt.close(fig)


def _level_bars(ax, stats, cjk):
    """Left panel: one horizontal stacked bar per level, the first level on top."""
    from matplotlib.ticker import PercentFormatter
    rows = range(len(stats))
    left = [0.0] * len(stats)
    for i, (colour, zh, en) in enumerate(((GREEN, "满分", "full marks"), (AMBER, "部分得分", "partial"),
                                          (RED, "0 分", "zero"))):
        widths = [s.shares()[i] for s in stats]
        ax.barh(rows, widths, left=left, height=0.6, color=colour, label=label(zh, en, cjk))
        left = [a + b for a, b in zip(left, widths)]
    for row, s in zip(rows, stats):  # beside the bar: x in axes units, y in data units
        ax.text(1.02, row, f"{s.pass_rate:.0%}  ({label('均', 'mean', cjk)} {s.mean:.2g}/{s.points:g})",
                va="center", transform=ax.get_yaxis_transform())
    ax.set_yticks(list(rows), [s.name for s in stats])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_title(label("各关通过率", "pass rate per level", cjk), loc="left")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), ncols=3, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)


def _total_histogram(ax, stats, scores, cjk):
    """Right panel: how many submissions got each total score, one bin per whole point."""
    from matplotlib.ticker import MaxNLocator
    total_points = sum(s.points for s in stats)
    totals = [sum(levels.values()) for levels in scores.values()]
    edges = [k - 0.5 for k in range(int(total_points) + 2)]
    counts, _, patches = ax.hist(totals, bins=edges, color=BLUE, edgecolor="white")
    ax.bar_label(patches, labels=[f"{n:g}" if n else "" for n in counts])
    ax.set_xlim(edges[0], edges[-1])
    ax.margins(y=0.12)  # room for the counts above the bars
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(f"{label('总分', 'total score', cjk)} / {total_points:g}", color=GREY)
    ax.set_ylabel(label("提交数", "submissions", cjk), color=GREY)
    ax.set_title(label("总分分布", "total scores", cjk), loc="left")
    ax.spines[["top", "right"]].set_visible(False)


def inline_svg(svg_text: str) -> str:
    """The SVG as an HTML element: without its XML prolog and DOCTYPE."""
    return svg_text[svg_text.index("<svg"):]


# ---------------------------------------------------------------- the HTML page

def html_report(spec, stats, scores, problems, warnings, svg, similarity: str = "", penalties=None) -> str:
    """`similarity`: the file name of the assignment's similarity page beside this one, if any."""
    esc = html.escape
    caveat = t("分数高只说明值得看一看，不是结论", "a high score is a reason to look, not a verdict")
    similarity_link = (f'<p><a href="{esc(similarity)}">{esc(t("查重报告", "Similarity report"))}</a> '
                       f'({esc(caveat)})</p>' if similarity else "")
    level_rows = "".join(
        f"<tr><td>{esc(s.name)}</td><td>{s.points:g}</td><td>{s.pass_rate:.0%}</td><td>{s.mean:.2f}</td>"
        f"<td>{esc('  '.join(f'{k:g}: {n}' for k, n in s.distribution.items()))}</td></tr>" for s in stats)
    head = "".join(f"<th>{esc(s.name)}</th>" for s in stats)
    penalties = penalties or {}
    late = (lambda student: f"<td>{-penalties.get(student, 0.0):g}</td>") if penalties else (lambda student: "")
    student_rows = "".join(
        f"<tr><td>{esc(student)}</td>" + "".join(f"<td>{levels[s.name]:g}</td>" for s in stats) + late(student)
        + f"<td><b>{sum(levels.values()) - penalties.get(student, 0.0):g}</b></td></tr>"
        for student, levels in scores.items())
    late_head = f"<th>{esc(t('迟交扣分', 'late penalty'))}</th>" if penalties else ""
    problem_items = "".join(f"<li><b>{esc(student)}</b>: {esc('; '.join(reasons))}</li>"
                            for student, reasons in problems.items()) or "<li>-</li>"
    warning_items = "".join(f'<p class="warn">{esc(w)}</p>' for w in warnings)
    return f"""<!DOCTYPE html>
<html lang="zh"><head><meta charset="utf-8"><title>{esc(spec.folder)}</title>
<style>body{{font-family:'WenQuanYi Micro Hei','Noto Sans CJK SC',sans-serif;margin:2em;max-width:1100px}}
table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:4px 10px;text-align:right}}
td:first-child,th:first-child{{text-align:left}}.warn{{color:#c00}}svg{{max-width:100%;height:auto}}</style>
</head><body>
<h1>{esc(t("班级报告", "Class report"))}: {esc(spec.folder)}</h1>
<p>{len(scores)} {esc(t("份提交", "submissions"))}</p>{similarity_link}
{svg}
<h2>{esc(t("各关统计", "Per level"))}</h2>
<table><thead><tr><th>{esc(t("关卡", "level"))}</th><th>{esc(t("满分", "points"))}</th>
<th>{esc(t("通过率", "pass rate"))}</th><th>{esc(t("平均", "mean"))}</th>
<th>{esc(t("分数分布", "distribution"))} (score: n)</th></tr></thead><tbody>{level_rows}</tbody></table>
<h2>{esc(t("有问题的提交", "Submissions with problems"))} ({len(problems)})</h2>
<ul>{problem_items}</ul>{warning_items}
<h2>{esc(t("每位学生", "Per student"))}</h2>
<table><thead><tr><th>{esc(t("学生", "student"))}</th>{head}{late_head}<th>{esc(t("总分", "total"))}</th></tr></thead>
<tbody>{student_rows}</tbody></table>
</body></html>
"""


def write_report(course: Path, spec, out: Path) -> dict:
    """Everything above for one assignment; returns the paths written and the figures."""
    scores, penalties = class_scores(course, spec), late_penalties(course, spec)
    problems, warnings_ = submission_problems(course, spec)
    stats = level_stats(spec, scores)
    out.mkdir(parents=True, exist_ok=True)
    paths = {kind: out / f"report_{spec.folder}.{kind}" for kind in ("html", "svg", "png")}
    plot(spec, stats, scores, paths["svg"], paths["png"])
    svg = inline_svg(paths["svg"].read_text(encoding="utf-8"))
    similarity = out / f"similarity_{spec.folder}.html"  # autograder/tools/similarity.py writes it
    paths["html"].write_text(html_report(spec, stats, scores, problems, warnings_, svg,
                                         similarity.name if similarity.exists() else "", penalties), encoding="utf-8")
    return {"paths": paths, "stats": stats, "scores": scores, "problems": problems, "warnings": warnings_,
            "penalties": penalties, "text": terminal_report(spec, stats, scores, problems, warnings_, penalties)}


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


if __name__ == "__main__":
    main()
