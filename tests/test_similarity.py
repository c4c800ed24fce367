"""查重 (autograder/tools/similarity.py): copies found, independent work and stubs never accused, public
code reported as public, hostile submissions read safely and shown inert.

The quality test builds, per assignment and per kind of disguise, a class of the independent
correct solutions (the reference, the seeds' code, the course's variants in tests/seed_code), two
untouched stubs, and one disguised copy of each solution that is not public; it prints the
detection rate per kind of change and the false alarms, and holds the targets.
"""
import csv
import dataclasses
import io
import os
from collections import defaultdict
from itertools import combinations

import nbformat
import pytest

import course_config
from autograder.similarity import submissions
from autograder.similarity.compare import ALL
from autograder.tools import report, similarity, similarity_class
from autograder.tools.similarity_class import DISGUISES, disguised, release_copy, solutions, submit

SETTINGS = course_config.SIMILARITY
CODE_ASSIGNMENTS = [a for a in course_config.ASSIGNMENTS
                    if a.name in similarity_class.OTHER_SOLUTIONS or a.name == "gan"]
MUST_FIND = ("renamed", "reordered", "re-commented")  # the targets: at least 90% of these copies flagged
SPEC = course_config.assignment("multihead_attention")
EVERY_PAIR = dataclasses.replace(SETTINGS, threshold=0.0)
QUIET = {"progress": lambda iterable, **_: iterable}


def compared(course, spec, settings=SETTINGS):
    return similarity.write_similarity(course, spec, course / "out", settings, **QUIET)


def course_with(tmp_path, spec, students: dict):
    """A course folder: release/ and submitted/<student> for each {student: {level: code}}."""
    release_copy(tmp_path, spec)
    for student, levels in students.items():
        submit(tmp_path, student, spec, levels)
    return tmp_path


def test_detection_rate_per_disguise_and_no_false_alarm(tmp_path):
    copies = defaultdict(lambda: [0, 0])  # kind: [flagged, copies]
    levels = defaultdict(lambda: [0, 0])  # kind: [levels over the threshold, levels changed and comparable]
    public_copies = defaultdict(lambda: [0, 0])  # kind: [not flagged as a pair; copies of public code]
    independent, independent_flagged, stub_flagged, cross = set(), set(), [], set()
    missed = []  # copies not flagged: (kind, assignment, original, score)
    highest = (0.0,)  # the most alike independent pair: (score, assignment, a, b)
    for spec in CODE_ASSIGNMENTS:
        found = solutions(spec)
        for kind, disguise in DISGUISES.items():
            course = tmp_path / f"{spec.folder}-{kind.replace(' ', '').replace('>', '').replace('@', '')}"
            students = {author: levels_ for author, (levels_, _) in found.items()}
            students |= {"stub1": {}, "stub2": {}}
            made = {}
            for author, (levels_, public) in found.items():
                changed = disguised(levels_, disguise)
                if changed:
                    students[f"{author}~copy"] = {**levels_, **changed}
                    made[author] = (changed, public)
            # every pair kept (threshold 0), to see how near the threshold the independent ones come
            result = compared(course_with(course, spec, students), spec, EVERY_PAIR)["result"]
            scores = {(p.a, p.b): p.score for p in result.pairs}
            pairs = {(p.a, p.b): p for p in result.pairs if p.score >= SETTINGS.threshold}
            for author, (changed, public) in made.items():
                key = (author, f"{author}~copy")
                # public code: a seed's, or one (07's reference) with too little of its own in every level
                if public or all(lv in result.empty[author] for lv in found[author][0]):
                    public_copies[kind][1] += 1
                    public_copies[kind][0] += key not in pairs
                    continue
                copies[kind][1] += 1
                copies[kind][0] += key in pairs
                if key not in pairs:
                    missed.append((kind, spec.folder, author, round(scores.get(key, 0.0), 2)))
                own = {lv for lv in changed if lv not in result.empty[author]}
                levels[kind][1] += len(own)
                levels[kind][0] += sum(key in pairs and pairs[key].matches.get(lv) is not None
                                       and pairs[key].matches[lv].score >= SETTINGS.threshold for lv in own)
            for a, b in combinations(sorted(found), 2):
                independent.add((spec.folder, a, b))
                highest = max(highest, (scores.get((a, b), 0.0), spec.folder, a, b))
                if (a, b) in pairs:
                    independent_flagged.add((spec.folder, a, b, round(pairs[a, b].score, 2)))
            for a, b in pairs:
                if "stub" in a or "stub" in b:
                    stub_flagged.append((spec.folder, a, b))
                elif a.split("~")[0] != b.split("~")[0] and "~" in a + b:
                    cross.add((spec.folder, kind, a, b))

    print("\n== 查重 quality: per kind of change (copies of the non-public solutions; levels = their levels "
          "with code of their own that the change touched)")
    print(f"{'change':<22} {'copies flagged':>15} {'levels flagged':>15} {'copies of public code not flagged':>35}")
    for kind in DISGUISES:
        c, lv, pub = copies[kind], levels[kind], public_copies[kind]
        print(f"{kind:<22} {c[0]:>6}/{c[1]:<3} {c[0] / max(c[1], 1):>4.0%} {lv[0]:>6}/{lv[1]:<3} "
              f"{lv[0] / max(lv[1], 1):>4.0%} {pub[0]:>14}/{pub[1]:<3}")
    print(f"copies missed: {missed}")
    print(f"independent pairs flagged: {len(independent_flagged)} of {len(independent)} {sorted(independent_flagged)}")
    print(f"the most alike independent pair: {highest[0]:.0%} {highest[1:]} (threshold {SETTINGS.threshold:.0%})")
    print(f"stub pairs flagged: {len(stub_flagged)}")
    print(f"pairs of a copy and another solution flagged (the reference is built on the seed it meets): "
          f"{len(cross)} {sorted(cross)[:8]}")
    for kind in MUST_FIND:
        assert copies[kind][1] >= 5, f"too few {kind} copies to measure: {copies[kind]}"
        assert copies[kind][0] >= 0.9 * copies[kind][1], (kind, copies[kind])
    assert not independent_flagged
    assert not stub_flagged


def test_untouched_stubs_and_empty_levels_are_never_compared(tmp_path):
    blank = {lv.name: "" for lv in SPEC.levels}
    trivial = {"masked_softmax": "def masked_softmax(X, valid_lens):\n    pass\n"}
    course = course_with(tmp_path, SPEC, {"stub1": {}, "stub2": {}, "stub3": {}, "blank1": blank, "blank2": blank,
                                          "pass1": trivial, "pass2": trivial})
    result = compared(course, SPEC)["result"]
    assert result.pairs == [] and result.public_pairs == []
    assert all(set(parts) >= {lv.name for lv in SPEC.levels if lv.name in result.parts}
               for parts in result.empty.values())


def test_the_same_right_answers_are_not_copying(tmp_path):
    answers = solutions(SPEC)["reference"][0]["attention_shapes"]
    course = course_with(tmp_path, SPEC, {"ann": {"attention_shapes": answers}, "bob": {"attention_shapes": answers}})
    assert compared(course, SPEC)["result"].pairs == []


def test_two_students_pasting_d2l_match_a_public_source_not_each_other(tmp_path):
    d2l = solutions(SPEC)["d2l_attention"][0]
    course = course_with(tmp_path, SPEC, {"ann": d2l, "bob": d2l, "stub": {}})
    report_ = compared(course, SPEC)
    result = report_["result"]
    assert result.pairs == []
    assert [(p.a, p.b) for p in result.public_pairs] == [("ann", "bob")]
    assert "d2l_attention.py" in result.public["ann"]["masked_softmax"].sources
    page = report_["paths"]["html"].read_text()
    assert "matches a public source: d2l_attention.py" in page
    assert "public" in report_["paths"]["csv"].read_text().splitlines()[1]


def test_a_copy_of_a_classmate_is_ranked_with_its_spans_marked(tmp_path):
    found = solutions(SPEC)
    ref = found["reference"][0]
    course = course_with(tmp_path, SPEC, {"ann": ref, "bob": {**ref, **disguised(ref, DISGUISES["renamed"])},
                                          "cat": found["vectorised_attention"][0]})
    report_ = compared(course, SPEC)
    (pair,) = report_["result"].pairs
    assert (pair.a, pair.b) == ("ann", "bob") and pair.matches["masked_softmax"].score >= 0.9
    page = report_["paths"]["html"].read_text()
    assert page.count('<mark class="shared">') >= 2  # both sides
    assert "masked_fill" in page and 'href="#pair1"' in page
    rows = report_["paths"]["csv"].read_text().splitlines()
    assert rows[0].startswith("rank,kind,student_a,student_b,score") and rows[1].startswith("1,shared,ann,bob,")


def test_hostile_names_and_code_are_escaped_and_csv_formulas_are_defused(tmp_path):
    attack = '</pre><script>alert(1)</script><img src=x onerror=alert(2)>'
    code = ("def masked_softmax(X, valid_lens):\n    s = '" + attack + "'\n"
            + "".join(f"    X = X.masked_fill(X > {i}, -1e{i}).softmax(-1) * {i}\n" for i in range(12))
            + "    return X\n")
    names = ["=HYPERLINK(\"evil\")<i onclick=x>", "+cmd|calc<script>"]  # folder names: anything but "/"
    course = course_with(tmp_path, SPEC, {name: {"masked_softmax": code} for name in names})
    report_ = compared(course, SPEC)
    assert len(report_["result"].pairs) == 1
    page = report_["paths"]["html"].read_text()
    assert "<script>" not in page and "<img" not in page and "<i " not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "default-src 'none'" in page  # nothing runs even where escaping would be missed
    row = list(csv.reader(io.StringIO(report_["paths"]["csv"].read_text())))[1]
    assert row[2:4] == ["'+cmd|calc<script>", "'=HYPERLINK(\"evil\")<i onclick=x>"]


def test_links_are_not_followed_and_oversized_notebooks_are_left_out_with_a_note(tmp_path, monkeypatch):
    ref = solutions(SPEC)["reference"][0]
    secret = tmp_path / "secret.ipynb"
    course = course_with(tmp_path / "course", SPEC, {"ann": ref, "big": ref, "linked": {}})
    notebook = course / "submitted" / "linked" / SPEC.folder / f"{SPEC.name}.ipynb"
    secret.write_bytes((course / "submitted" / "ann" / SPEC.folder / f"{SPEC.name}.ipynb").read_bytes())
    notebook.unlink()
    notebook.symlink_to(secret)  # a link to a notebook the student may not read
    os.symlink(course / "submitted" / "ann", course / "submitted" / "zz_folder_link")
    big = course / "submitted" / "big" / SPEC.folder / f"{SPEC.name}.ipynb"
    nb = nbformat.read(big, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("x" * 10_000))
    nbformat.write(nb, big)
    monkeypatch.setattr(submissions, "MAX_NOTEBOOK_BYTES", big.stat().st_size - 1)
    result = compared(course, SPEC)["result"]
    students = {s.student: s for s in result.students}
    assert sorted(students) == ["ann", "big", "linked"]  # the folder link is not a student
    assert "a link" in students["linked"].notes[0] and students["linked"].parts == {}
    assert "budget" in students["big"].notes[0] and students["big"].parts == {}
    assert result.pairs == []


def test_a_cell_whose_markers_or_metadata_are_gone_is_still_compared(tmp_path):
    ref = solutions(SPEC)["reference"][0]
    course = course_with(tmp_path, SPEC, {"ann": ref, "bob": {}})
    path = course / "submitted" / "bob" / SPEC.folder / f"{SPEC.name}.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(ref["masked_softmax"].replace("##########", "#")))
    nbformat.write(nb, path)
    result = compared(course, SPEC)["result"]
    (pair,) = result.pairs
    assert pair.matches[ALL].score >= 0.9 and "other_cells" in result.parts


def test_the_command_writes_the_page_and_the_csv_and_the_class_report_links_to_it(tmp_path, capsys):
    ref = solutions(SPEC)["reference"][0]
    course = course_with(tmp_path, SPEC, {"ann": ref, "bob": ref})
    similarity.main([SPEC.folder, "--course", str(course)])
    out = capsys.readouterr().out
    assert "ann ↔ bob: 100%" in out and f"similarity_{SPEC.folder}.html" in out
    assert (course / "artifacts" / "report" / f"similarity_{SPEC.folder}.csv").exists()
    with_link = report.html_report(SPEC, [], {}, {}, [], "<svg></svg>", f"similarity_{SPEC.folder}.html")
    assert f'href="similarity_{SPEC.folder}.html"' in with_link
    assert "similarity_" not in report.html_report(SPEC, [], {}, {}, [], "<svg></svg>")


@pytest.mark.parametrize("threshold", [0.5, 1.01])
def test_the_threshold_comes_from_the_settings(tmp_path, threshold):
    ref = solutions(SPEC)["reference"][0]
    course = course_with(tmp_path, SPEC, {"ann": ref, "bob": {**ref, **disguised(ref, DISGUISES["renamed"])}})
    result = compared(course, SPEC, dataclasses.replace(SETTINGS, threshold=threshold))["result"]
    assert len(result.pairs) == (1 if threshold <= 1 else 0)
