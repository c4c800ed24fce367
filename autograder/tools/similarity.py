"""查重: how alike a class's submissions of one assignment are, per level and overall.

    python -m autograder.tools.similarity 01_multihead_attention [--course DIR] [--out DIR]
    make similarity A=01_multihead_attention

Reads submitted/<student>/<assignment>/<notebook>.ipynb (nbgrader's folder of the course) without
following links, compares every pair of students (autograder/similarity/compare.py, settings in
course_config.SIMILARITY) and writes into --out (default: artifacts/report/ in the course):
  similarity_<assignment>.html  the pairs over the threshold, ranked, side by side, matches marked
  similarity_<assignment>.csv   the same pairs, one row each, with every level's score
A high score is a reason to look at two submissions, not a verdict.
"""
import argparse
import sys
from pathlib import Path

import course_config
from autograder.messages import t
from autograder.similarity.compare import compare_class, public_sources
from autograder.similarity.page import csv_text, html_page
from autograder.similarity.submissions import class_code, released_cells


def report_paths(out: Path, spec) -> dict:
    return {kind: out / f"similarity_{spec.folder}.{kind}" for kind in ("html", "csv")}


def progress_bar(iterable, desc="", unit="", **options):
    """tqdm's bar on stderr (the command's figures go to stdout)."""
    from tqdm import tqdm
    return tqdm(iterable, desc=desc, unit=unit, leave=False, file=sys.stderr, **options)


def write_similarity(course: Path, spec, out: Path, settings=course_config.SIMILARITY, progress=progress_bar) -> dict:
    """Compare the class and write the page and the CSV; returns the paths and the comparison."""
    release = course / "release" / spec.folder / f"{spec.name}.ipynb"
    released = released_cells(release)
    students = class_code(course / "submitted", spec, released)
    sources = public_sources(course_config.ROOT, settings.public_sources)
    result = compare_class(students, "\n".join(sorted(released)), sources, settings,
                           [lv.name for lv in spec.levels], progress)
    out.mkdir(parents=True, exist_ok=True)
    paths = report_paths(out, spec)
    paths["html"].write_text(html_page(result, spec, settings), encoding="utf-8")
    paths["csv"].write_text(csv_text(result), encoding="utf-8")
    return {"paths": paths, "result": result, "sources": sorted(sources)}


def summary(result, spec, settings) -> str:
    lines = [(f"== {spec.folder}: {len(result.students)} {t('份提交', 'submissions')}, "
             f"{result.compared_pairs} {t('对', 'pairs')}, {t('阈值', 'threshold')} {settings.threshold:.0%}"),
             f"{t('相似的提交', 'alike pairs')} ({len(result.pairs)}):"]
    lines += [f"  {p.a} ↔ {p.b}: {p.score:.0%}" for p in result.pairs[:20]] or ["  -"]
    if len(result.pairs) > 20:
        lines.append(f"  … (+{len(result.pairs) - 20})")
    lines.append(f"{t('仅因公开来源而相似', 'alike only through public sources')}: {len(result.public_pairs)}")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder.tools.similarity", description=__doc__.split("\n")[0])
    parser.add_argument("assignment", help="folder (01_multihead_attention) or name (multihead_attention)")
    parser.add_argument("--course", type=Path, default=course_config.ROOT, help="the course root (submitted/)")
    parser.add_argument("--out", type=Path, help="where the files go (default: COURSE/artifacts/report)")
    args = parser.parse_args(argv)
    spec = course_config.assignment(args.assignment)
    course = args.course.resolve()
    if not (course / "submitted").is_dir():
        sys.exit(t(f"{course} 中没有 submitted/：先收取提交（nbgrader collect）",
                   f"no submitted/ in {course}: collect the submissions first (nbgrader collect)"))
    report = write_similarity(course, spec, args.out or course / "artifacts" / "report")
    print(summary(report["result"], spec, course_config.SIMILARITY))
    print()
    for kind, path in report["paths"].items():
        print(f"{kind}: {path}")


if __name__ == "__main__":
    main()
