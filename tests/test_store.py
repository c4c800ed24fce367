"""Typed results round-trip through JSON, and the result store keeps them by key with atomic
writes: a writer killed with SIGKILL mid-write leaves every file whole (the old one or the new)."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from autograder.engine.result import Check, Level, Result
from autograder.engine.store import ResultStore


G = "grader-1"  # a grader version (store.grader_version)


def _result(student="alice", key="k1", passed=(True, False), problem="", grader=G, **fields):
    level = Level("masked_softmax", 2.0, [Check(f"c{i}", p, message="" if p else "wrong") for i, p in
                                          enumerate(passed)], problem=problem)
    return Result("01_multihead_attention", student, key, max_score=2.0, score=level.score,
                  levels={"masked_softmax": level}, outputs=[[{"output_type": "stream", "name": "stdout",
                                                               "text": "hi"}]], problems=["p"], attempt=2,
                  grader=grader, **fields)


def test_a_result_round_trips_through_json_with_its_types():
    result = _result()
    again = Result.from_json(result.to_json())
    assert again == result
    assert isinstance(again.levels["masked_softmax"], Level)
    assert isinstance(again.levels["masked_softmax"].checks[0], Check)
    assert again.levels["masked_softmax"].score == 1.0  # derived: 2 points x 1/2 passed


def test_a_level_with_a_problem_scores_zero_and_its_json_carries_the_score():
    level = _result(passed=(True, True), problem="kernel died").levels["masked_softmax"]
    assert level.score == 0.0 and level.as_dict()["score"] == 0.0
    assert Level.from_dict(_result(passed=(True, True)).levels["masked_softmax"].as_dict()).score == 2.0


def test_json_of_another_shape_is_read_with_the_fields_it_has():
    data = json.loads(_result().to_json())
    data["from_a_newer_version"] = 1
    del data["worker"]
    assert Result.from_dict(data).worker == "" and Result.from_dict(data).attempt == 2


def test_the_store_keeps_results_by_assignment_student_and_run_key(tmp_path):
    store = ResultStore(tmp_path)
    store.put(_result("alice", "k1"))
    store.put(_result("bob", "k2", passed=(True, True)))
    assert store.get("01_multihead_attention", "alice", "k1", G).score == 1.0
    assert store.get("01_multihead_attention", "bob", "k2", G).score == 2.0
    assert store.get("01_multihead_attention", "alice", "k2", G) is None  # other code: a miss
    assert store.get("01_multihead_attention", "carol", "k1", G) is None
    latest = json.loads((tmp_path / "01_multihead_attention" / "alice.json").read_text())
    assert latest["score"] == 1.0 and "outputs" not in latest  # the report's file
    store.put(_result("alice.json", "k3"))  # a student whose id ends like a latest file: no clash
    assert store.get("01_multihead_attention", "alice.json", "k3", G) and store.get(
        "01_multihead_attention", "alice", "k1", G)


def test_a_file_that_does_not_parse_or_names_another_key_is_a_miss(tmp_path):
    store = ResultStore(tmp_path)
    path = store.put(_result("alice", "k1"))
    path.write_text(path.read_text()[:40])
    assert store.get("01_multihead_attention", "alice", "k1", G) is None
    path.write_text(_result("alice", "other").to_json())
    assert store.get("01_multihead_attention", "alice", "k1", G) is None
    path.write_text("[1, 2]")  # JSON, not a result
    assert store.get("01_multihead_attention", "alice", "k1", G) is None


def test_a_result_of_another_grader_or_that_hit_a_time_limit_is_not_reused(tmp_path):
    """Edited checks or references, other limits (another grader version), a failed grading (no
    version), a time limit (the load decided it): graded again."""
    store = ResultStore(tmp_path)
    store.put(_result("alice", "k1"))
    assert store.get("01_multihead_attention", "alice", "k1", G) is not None
    assert store.get("01_multihead_attention", "alice", "k1", "grader-2") is None
    store.put(_result("bob", "k1", grader=""))
    assert store.get("01_multihead_attention", "bob", "k1", "") is None
    store.put(_result("carol", "k1", timed_out=True))
    assert store.get("01_multihead_attention", "carol", "k1", G) is None


def test_the_grader_version_follows_the_checks_the_references_and_the_limits(monkeypatch, tmp_path):
    from dataclasses import replace

    import course_config
    from autograder.engine import judge, store
    version = store.grader_version.__wrapped__  # uncached: each call reads the files again
    before = version("multihead_attention")
    assert version("01_multihead_attention") == before  # by folder or name
    assert version("transformer") != before  # each assignment its own
    with monkeypatch.context() as limits:
        limits.setattr(course_config, "LIMITS", replace(course_config.LIMITS, call_s=1))
        assert version("multihead_attention") != before
    checks = tmp_path / "checks"
    checks.mkdir()
    (checks / "test_multihead_attention.py").write_bytes(judge.checks_file("multihead_attention").read_bytes())
    monkeypatch.setattr(store, "GRADER_FILES", [(checks, "*.py")])
    alone = version("multihead_attention")
    with open(checks / "test_multihead_attention.py", "a") as edited:
        edited.write("\n# an edited check\n")
    assert version("multihead_attention") != alone
    (checks / "test_new_helper.py").write_text("")
    assert version("multihead_attention") not in (alone, before)


@pytest.mark.parametrize("name", ["../x", "a/b", "", ".."])
def test_names_that_are_not_one_path_component_are_refused(tmp_path, name):
    with pytest.raises(ValueError):
        ResultStore(tmp_path).get("01_multihead_attention", name, "k1", G)


WRITER = textwrap.dedent("""
    import sys
    from autograder.engine.result import Check, Level, Result
    from autograder.engine.store import ResultStore
    store = ResultStore(sys.argv[1])
    big = [[{"output_type": "stream", "name": "stdout", "text": "x" * 2_000_000}]]
    print("ready", flush=True)
    n = 0
    while True:  # rewrite the same key forever, each version whole and big (several MB)
        n += 1
        store.put(Result("01_multihead_attention", "alice", "k", 2.0, score=float(n % 3), outputs=big, attempt=n,
                         grader="g"))
""")


def test_a_writer_killed_mid_write_leaves_no_half_written_result(tmp_path):
    """SIGKILL at random moments of a writer that rewrites one big result: what is there always parses."""
    store = ResultStore(tmp_path)
    seen = set()
    for delay in (0.05, 0.13, 0.21, 0.34, 0.55):
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path)], stdout=subprocess.PIPE)
        assert writer.stdout.readline().strip() == b"ready"
        time.sleep(delay)
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait()
        writer.stdout.close()
        result = store.get("01_multihead_attention", "alice", "k", "g")
        if result is not None or (tmp_path / "by_key" / "01_multihead_attention" / "alice" / "k.json").exists():
            assert result is not None, "a result file that does not parse: half-written"
            assert len(result.outputs[0][0]["text"]) == 2_000_000
            seen.add(result.attempt)
        latest = tmp_path / "01_multihead_attention" / "alice.json"
        if latest.exists():
            json.loads(latest.read_text())  # whole too
    assert seen, "the writer never finished one write: the test proved nothing"
    keyed = tmp_path / "by_key" / "01_multihead_attention" / "alice"
    assert not [p for p in keyed.glob("*.json") if p.name != "k.json"]  # temporary files are never results
