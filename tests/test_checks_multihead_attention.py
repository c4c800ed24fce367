"""What is particular to 01_multihead_attention's hidden checks (the common contract:
test_checks_every_assignment.py): the seeds' own code and other correct variants pass, diagnoses
name the mistake."""

import torch

import course_config
import reference_solutions.multihead_attention as ref
from autograder.checks import test_multihead_attention as checks
from autograder.engine.judge import judge
from autograder.engine.student import LocalStudent
from reference_solutions.known_wrong.multihead_attention import WRONG
from tests.checks_helpers import judge_reference, judge_wrong, not_full_marks
from tests.seed_code import read

SPEC = course_config.assignment("multihead_attention")
LEVELS = [lv.name for lv in SPEC.levels]


def test_diagnosis_names_the_mistake():
    result = judge_wrong("multihead_attention", "no_sqrt_scaling")
    assert all("1/sqrt(d)" in c.message for c in result.checks if not c.passed)
    passed = [c.name for c in result.checks if c.passed]  # only where the dropout sits, not the scores
    assert result.score < result.points and len(passed) == 2 and all("train mode" in name for name in passed)


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


# Levels 2 and 3 wrong, written after the reference (so the reference's MultiHeadAttention uses them).
WRONG_PIECES = '''
def transpose_qkv(X, num_heads):
    return X.reshape(X.shape[0] * num_heads, X.shape[1], -1)  # no permute: heads mixed up


class DotProductAttention(nn.Module):
    def __init__(self, dropout, **kwargs):
        super().__init__(**kwargs)
        self.dropout = nn.Dropout(dropout)

    def forward(self, queries, keys, values, valid_lens=None):
        scores = torch.bmm(queries, keys.transpose(1, 2))  # no 1/sqrt(d)
        self.attention_weights = masked_softmax(scores, valid_lens)
        return torch.bmm(self.dropout(self.attention_weights), values)
'''
WRONG_FORWARD = '''
def _forward_without_W_o(self, queries, keys, values, valid_lens):
    queries = transpose_qkv(self.W_q(queries), self.num_heads)
    keys = transpose_qkv(self.W_k(keys), self.num_heads)
    values = transpose_qkv(self.W_v(values), self.num_heads)
    if valid_lens is not None:
        valid_lens = torch.repeat_interleave(valid_lens, repeats=self.num_heads, dim=0)
    return transpose_output(self.attention(queries, keys, values, valid_lens), self.num_heads)


MultiHeadAttention.forward = _forward_without_W_o
'''


def level_4(source):
    student = LocalStudent.from_source(source)
    return judge("multihead_attention", student, levels=["multihead_attention"])["multihead_attention"]


def reference_source():
    return (course_config.ROOT / "reference_solutions" / "multihead_attention.py").read_text()


def test_a_right_forward_on_wrong_earlier_levels_is_told_so():
    result = level_4(reference_source() + WRONG_PIECES)
    failed = [c for c in result.checks if not c.passed]
    assert failed and result.score < 2  # the output is wrong: no points
    for check in failed:
        assert "your forward itself is right" in check.message, check.message
        assert "level 3's transpose_qkv" in check.message and "level 2's DotProductAttention" in check.message
        assert "你的 forward 本身是对的" in check.message


def test_a_wrong_forward_on_wrong_earlier_levels_is_not_called_right():
    result = level_4(reference_source() + WRONG_PIECES + WRONG_FORWARD)
    failed = [c for c in result.checks if not c.passed]
    assert len(failed) == len(result.checks)
    for check in failed:
        assert "your forward itself is right" not in check.message
        assert "which are wrong themselves" in check.message, check.message


def test_a_wrong_forward_on_right_earlier_levels_names_no_earlier_level():
    result = level_4(reference_source() + WRONG_FORWARD)
    failed = [c for c in result.checks if not c.passed]
    assert len(failed) == len(result.checks)
    assert not any("level 2" in c.message or "level 3" in c.message for c in failed), [c.message for c in failed]


def test_the_attention_dropout_check_rejects_no_right_answer_over_2000_seeds():
    """checking.expect_dropped_out's rate bound (rate_bound: at most 1e-6 per grading) and exact scale:
    the reference's DotProductAttention (nn.Dropout on the weights) over 2,000 draws, none rejected."""
    p, q, k, v, lens, kept = checks.attention_dropout_case(torch.Generator().manual_seed(2026))
    module = ref.DotProductAttention(p).train()
    rejected = 0
    with torch.no_grad(), torch.random.fork_rng():
        for seed in range(2000):
            torch.manual_seed(seed)
            try:
                checks.expect_dropped_out(module(q, k, v, lens), kept, p, rows=True)
            except checks.CheckFailed:
                rejected += 1
    assert rejected == 0


def test_a_hand_written_attention_dropout_is_told_its_scale_and_its_rate():
    """Written by hand (its own random draws): right, unscaled, half the rate; each told what was measured."""
    def hand(rate, scale):
        class DotProductAttention(ref.DotProductAttention):
            def forward(self, queries, keys, values, valid_lens=None):
                super().forward(queries, keys, values, valid_lens)
                weights = self.attention_weights
                if self.training:
                    weights = weights * torch.bernoulli(torch.full_like(weights, 1 - rate(self.dropout.p)))
                    weights = weights * scale(self.dropout.p)
                return torch.bmm(weights, values)
        return DotProductAttention

    def messages(cls):
        level = judge_reference("multihead_attention", ["dot_product_attention"],
                                DotProductAttention=cls)["dot_product_attention"]
        return [c.message for c in level.checks if c.name.startswith("训练模式、只有") and not c.passed]

    assert messages(hand(lambda p: p, lambda p: 1 / (1 - p) if p < 1 else 0.0)) == []
    (unscaled,) = messages(hand(lambda p: p, lambda p: 1.0))
    assert "kept rows scaled x1.00; expected x2 for p = 0.5" in unscaled, unscaled
    (half,) = messages(hand(lambda p: p / 2, lambda p: 1 / (1 - p / 2)))
    assert "kept rows scaled x1.33" in half and "of 1024 rows; expected 50% ± 8%" in half, half
