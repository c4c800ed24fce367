"""`make bench`: the similarity report (查重) on a class of 200, timed per stage, with its progress bar.

The class, for 05_rnn_from_scratch (the longest code): every independent solution and, for the
rest, disguised copies of them (each with its own renaming) and a tenth untouched stubs. Prints
the seconds to read the notebooks, to fingerprint and compare every pair, and to write the page,
the total, and the pairs found. Target: under 30 s on this machine (2 cores).
"""
import random
import sys
import tempfile
import time
from pathlib import Path

import course_config
from autograder.similarity.compare import compare_class, public_sources
from autograder.similarity.page import csv_text, html_page
from autograder.similarity.submissions import class_code, released_cells
from autograder.tools.similarity import progress_bar
from autograder.tools.similarity_class import DISGUISES, disguised, release_copy, solutions, submit

SPEC = course_config.assignment("rnn_from_scratch")
CLASS_SIZE = 200
TARGET_S = 30


def make_class(course: Path, size: int = CLASS_SIZE):
    release_copy(course, SPEC)
    found = [levels for levels, _ in solutions(SPEC).values()]
    rng = random.Random(0)
    for i in range(size):
        if i % 10 == 9:
            submit(course, f"s{i:03d}", SPEC, {})  # an untouched stub
            continue
        levels = found[i % len(found)]
        if i >= len(found):
            for kind in rng.sample(sorted(DISGUISES), 2):
                levels = {**levels, **disguised(levels, DISGUISES[kind], seed=i)}
            levels = {**levels, **disguised(levels, DISGUISES["renamed"], seed=i)}
        submit(course, f"s{i:03d}", SPEC, levels)


def main():
    settings = course_config.SIMILARITY
    with tempfile.TemporaryDirectory() as tmp:
        course = Path(tmp)
        make_class(course)
        start = time.perf_counter()
        released = released_cells(course / "release" / SPEC.folder / f"{SPEC.name}.ipynb")
        students = class_code(course / "submitted", SPEC, released)
        read = time.perf_counter()
        sources = public_sources(course_config.ROOT, settings.public_sources)
        result = compare_class(students, "\n".join(sorted(released)), sources, settings,
                               [lv.name for lv in SPEC.levels], progress_bar)
        compared = time.perf_counter()
        page, table = html_page(result, SPEC, settings), csv_text(result)
        written = time.perf_counter()
    total = written - start
    print(f"\n== 查重 / similarity: {SPEC.folder}, a class of {len(students)} ({result.compared_pairs} pairs, "
          f"{len(result.parts)} parts each)")
    print(f"  read the notebooks       {read - start:6.2f} s")
    print(f"  fingerprint and compare  {compared - read:6.2f} s")
    print(f"  write the page and CSV   {written - compared:6.2f} s  ({len(page) >> 10} KB HTML, "
          f"{len(table.splitlines()) - 1} CSV rows)")
    met = "met" if total < TARGET_S else "MISSED"
    print(f"  total                    {total:6.2f} s  (target < {TARGET_S} s: {met})")
    print(f"  pairs over {settings.threshold:.0%}: {len(result.pairs)}; alike only through public sources: "
          f"{len(result.public_pairs)}")
    return 0 if total < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
