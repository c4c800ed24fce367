"""What is particular to 01_multihead_attention's hidden checks (the common contract:
test_checks_every_assignment.py): the seeds' own code and other correct variants pass, diagnoses
name the mistake."""

import course_config
import reference_solutions.multihead_attention as ref
from autograder.engine.judge import judge
from autograder.engine.student import LocalStudent
from reference_solutions.known_wrong.multihead_attention import WRONG
from tests.checks_helpers import judge_wrong, not_full_marks
from tests.seed_code import read

SPEC = course_config.assignment("multihead_attention")
LEVELS = [lv.name for lv in SPEC.levels]


def test_diagnosis_names_the_mistake():
    result = judge_wrong("multihead_attention", "no_sqrt_scaling")
    assert all("1/sqrt(d)" in c.message for c in result.checks if not c.passed)
    assert result.score == 0


def test_seed_000_code_is_accepted_as_written():
    source = read("d2l_attention.py") + read("seed000_multihead_attention.py") + \
        "\n".join(f"{name} = {getattr(ref, name)!r}" for name in (
            "queries_after_W_q", "keys_after_W_k", "queries_after_transpose_qkv",
            "keys_after_transpose_qkv", "attention_weights_shape", "output_shape"))
    assert not_full_marks(judge("multihead_attention", LocalStudent.from_source(source))) == {}


def test_vectorised_variants_are_accepted():
    student = LocalStudent.from_source(read("vectorised_attention.py"))
    assert not_full_marks(judge("multihead_attention", student)) == {}


def test_grading_is_reproducible():
    wrong = next(w for w in WRONG if w.name == "repeat_valid_lens")
    scores = [judge("multihead_attention", LocalStudent.from_module(ref, **wrong.overrides),
                    levels=["multihead_attention"])["multihead_attention"].score for _ in range(2)]
    assert scores[0] == scores[1] < 2
