"""What is particular to 07_transformer's hidden checks (the common contract:
test_checks_every_assignment.py): d2l's code as written, the given attention cell, the oracles
themselves, diagnoses that name the mistake."""
import nbformat
import pytest
import torch

import course_config
import reference_solutions.transformer as ref
from autograder.checks import test_transformer as checks
from autograder.tools.build import reference_sections, scaffold_cells
from tests.checks_helpers import judge_reference, judge_source, judge_wrong, not_full_marks
from tests.conftest import devices
from tests.seed_code import read

SPEC = course_config.assignment("transformer")
QUIZ = "\n".join(f"{name} = {getattr(ref, name)!r}" for name in checks.QUESTIONS)


def given_attention() -> str:
    """The notebook's given cell: 01_multihead_attention's reference code without its Begin/End lines
    (stamped by the build)."""
    return scaffold_cells("transformer")["given_attention"]


def test_the_notebook_gives_01s_multihead_attention_read_only():
    """Its source of truth is 01's reference; locked, so nbgrader restores it if a student edits it."""
    nb = nbformat.read(course_config.ROOT / "source" / SPEC.folder / f"{SPEC.name}.ipynb", as_version=4)
    given = [c for c in nb.cells if c.cell_type == "code" and "class MultiHeadAttention" in c.source]
    assert len(given) == 1 and given[0].source == given_attention()
    for level in ("masked_softmax", "dot_product_attention", "transpose_qkv", "multihead_attention"):
        code = reference_sections("multihead_attention")[level]
        body = [line for line in code.splitlines() if "##########" not in line and "SOLUTION" not in line]
        assert "\n".join(body) in given_attention(), level
    assert given[0].metadata.nbgrader["locked"] and given[0].metadata.nbgrader["grade_id"] == "given_attention"


def test_d2l_code_is_accepted_as_written_on_the_given_attention():
    source = given_attention() + "\n" + read("d2l_transformer.py") + "\n" + QUIZ
    assert not_full_marks(judge_source("transformer", source)) == {}


def test_d2l_code_is_accepted_on_seed_000s_multihead_attention():
    source = read("d2l_attention.py") + read("seed000_multihead_attention.py") + read("d2l_transformer.py") + QUIZ
    assert not_full_marks(judge_source("transformer", source)) == {}


def test_encoding_table_as_a_buffer_and_exp_log_frequencies_are_accepted():
    """Another correct form: P registered as a buffer, frequencies as exp(-2i log(10000) / d)."""
    source = given_attention() + "\n" + read("d2l_transformer.py") + '''
class PositionalEncoding(nn.Module):
    def __init__(self, num_hiddens, dropout, max_len=1000):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        position = torch.arange(max_len).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, num_hiddens, 2) * (-math.log(10000.0) / num_hiddens))
        P = torch.zeros(1, max_len, num_hiddens)
        P[0, :, 0::2] = torch.sin(position * div_term)
        P[0, :, 1::2] = torch.cos(position * div_term)
        self.register_buffer("P", P)

    def forward(self, X):
        return self.dropout(X + self.P[:, :X.shape[1]])
'''
    assert not_full_marks(judge_source("transformer", source, levels=["positional_encoding"])) == {}


def test_a_wrong_ffn_costs_the_encoder_block_too_with_a_message():
    """The encoder block is built on the student's own FFN and AddNorm (levels 1 and 2)."""
    source = given_attention() + "\n" + read("d2l_transformer.py").replace(
        "self.dense2(self.relu(self.dense1(X)))", "self.dense2(self.dense1(X))")
    result = judge_source("transformer", source, levels=["encoder_block"])["encoder_block"]
    assert all(c.message for c in result.checks if not c.passed)
    # passed: the dropout checks, where the FFN's output is dropped (p = 1) or is dense2's bias alone (p = 0.5)
    dropout_checks = [check.__doc__.splitlines()[0] for check in (
        checks.test_encoder_block_drops_the_sublayers_not_the_residuals,
        checks.test_encoder_block_dropout_rates_and_scales)]
    assert [c.name for c in result.checks if c.passed] == dropout_checks


def test_diagnosis_names_the_mistake():
    result = judge_wrong("transformer", "sin_cos_swapped")
    assert result.score == 0 and all("sin and cos are swapped" in c.message for c in result.checks)


def test_grading_is_reproducible():
    scores = [judge_wrong("transformer", "valid_lens_ignored").score for _ in range(2)]
    assert scores[0] == scores[1] < 3


# ---------------------------------------------------------------- the oracles themselves
@pytest.mark.parametrize("device", devices())
def test_encoder_layer_oracle_equals_the_reference(device):
    rng = torch.Generator().manual_seed(5)
    args = checks.encoder_args(8, 12, 2, True)
    block = ref.EncoderBlock(*args).eval()
    state = checks.draw_like(rng, block)
    block.load_state_dict(state)
    X, lens = torch.randn(2, 4, 8, generator=rng), torch.tensor([1, 4])
    with torch.enable_grad():
        oracle = checks.oracle_encoder_layer(state, 8, 12, 2).to(device)(
            X.to(device), src_key_padding_mask=(torch.arange(4)[None] >= lens[:, None]).to(device))
    torch.testing.assert_close(oracle.detach().cpu(), block(X, lens).detach(), atol=1e-4, rtol=1e-3)


def test_sinusoid_oracle_equals_the_reference_table():
    torch.testing.assert_close(checks.sinusoid_table(50, 32), ref.PositionalEncoding(32, 0).P[0, :50],
                               atol=1e-5, rtol=1e-4)


def test_conv1d_oracle_equals_the_reference_ffn():
    rng = torch.Generator().manual_seed(6)
    ffn = ref.PositionWiseFFN(5, 7, 3)
    state = checks.draw_like(rng, ffn)
    ffn.load_state_dict(state)
    X = torch.randn(2, 4, 5, generator=rng)
    torch.testing.assert_close(checks.conv1d_ffn(state, X), ffn(X).detach())


def test_quiz_shapes_are_what_pytorch_computes():
    """The quiz's shape keys, proven with the given MultiHeadAttention."""
    seed_example = ref.MultiHeadAttention(512, 512, 512, 512, 8, 0.0).eval()  # seed 000: 2 words, 512, 8 heads
    X = torch.randn(1, 2, 512)
    Z = ref.transpose_qkv(seed_example.W_v(X), 8)  # (8, 2, 64): one Z per head, batch 1
    assert (Z.shape[0], tuple(Z.shape[1:])) == (ref.num_z_matrices, ref.z_shape)
    assert tuple(ref.transpose_output(Z, 8)[0].shape) == ref.concat_shape
    assert tuple(seed_example.W_o.weight.shape) == ref.W_o_shape
    attention = ref.MultiHeadAttention(16, 16, 16, 16, 4, 0.0).eval()
    output = attention(torch.randn(2, 5, 16), torch.randn(2, 7, 16), torch.randn(2, 7, 16), torch.tensor([3, 7]))
    assert tuple(attention.attention.attention_weights.shape) == ref.enc_dec_weights_shape
    assert tuple(output.shape) == ref.enc_dec_output_shape


def test_the_add_norm_dropout_check_rejects_no_right_answer_over_2000_seeds():
    """Its rate bound (checking.rate_bound) allows a false rejection with probability <= 1e-6 per
    grading; the scale is exact. The reference's AddNorm (nn.Dropout) over 2,000 draws: none rejected."""
    rng = torch.Generator().manual_seed(2026)
    p, state, X, Y = checks.add_norm_dropout_case(rng)
    module = ref.AddNorm(X.shape[-1], p)
    module.load_state_dict(state)
    module.train()
    rejected = 0
    with torch.no_grad(), torch.random.fork_rng():
        for seed in range(2000):
            torch.manual_seed(seed)
            try:
                checks.expect_rows_dropped_through_norm(module(X, Y), X, Y, state["ln.weight"], state["ln.bias"],
                                                        p, "cpu")
            except checks.CheckFailed:
                rejected += 1
    assert rejected == 0


def test_a_hand_written_dropout_is_judged_on_its_scale_and_its_rate():
    """Written by hand (its own random draws, not nn.Dropout's nor the known mistake's): right,
    unscaled, half the rate; each told what was measured."""
    def hand(rate, scale):
        class AddNorm(ref.AddNorm):
            def forward(self, X, Y):
                if self.training:
                    Y = Y * torch.bernoulli(torch.full_like(Y, 1 - rate(self.dropout.p))) * scale(self.dropout.p)
                return self.ln(X + Y)
        return AddNorm

    def messages(cls):
        level = judge_reference("transformer", ["add_norm"], AddNorm=cls)["add_norm"]
        return [c.message for c in level.checks if c.name.startswith("训练模式、dropout=0.5") and not c.passed]

    right = hand(lambda p: p, lambda p: 1 / (1 - p) if p < 1 else 0.0)
    assert messages(right) == []
    (unscaled,) = messages(hand(lambda p: p, lambda p: 1.0))
    assert "kept rows scaled x1.00; expected x2 for p = 0.5" in unscaled
    (half,) = messages(hand(lambda p: p / 2, lambda p: 1 / (1 - p / 2)))
    assert "kept rows scaled x1.33" in half and "of 1024 rows; expected 50% ± 8%" in half


def test_the_positional_encoding_dropout_check_rejects_no_right_answer_over_2000_seeds():
    """checking.expect_dropped_out's rate bound (rate_bound: at most 1e-6 per grading) and exact scale:
    the reference's PositionalEncoding (nn.Dropout) over 2,000 draws, none rejected."""
    p, X, kept = checks.encoding_dropout_case(torch.Generator().manual_seed(2026))
    module = ref.PositionalEncoding(X.shape[-1], p, 100).train()
    assert _rejections(lambda: checks.expect_dropped_out(module(X), kept, p)) == 0


def _rejections(check, seeds=2000) -> int:
    rejected = 0
    with torch.no_grad(), torch.random.fork_rng():
        for seed in range(seeds):
            torch.manual_seed(seed)
            try:
                check()
            except checks.CheckFailed:
                rejected += 1
    return rejected


def test_a_hand_written_encoding_dropout_is_told_its_scale_and_its_rate():
    """Written by hand (its own random draws): right, unscaled, half the rate; each told what was measured."""
    def hand(rate, scale):
        class PositionalEncoding(ref.PositionalEncoding):
            def forward(self, X):
                X = X + self.P[:, :X.shape[1], :].to(X.device)
                if self.training:
                    X = X * torch.bernoulli(torch.full_like(X, 1 - rate(self.dropout.p))) * scale(self.dropout.p)
                return X
        return PositionalEncoding

    def messages(cls):
        level = judge_reference("transformer", ["positional_encoding"], PositionalEncoding=cls)["positional_encoding"]
        return [c.message for c in level.checks if c.name.startswith("训练模式") and not c.passed]

    assert messages(hand(lambda p: p, lambda p: 1 / (1 - p))) == []
    (unscaled,) = messages(hand(lambda p: p, lambda p: 1.0))
    assert "kept elements scaled x1.00; expected x2 for p = 0.5" in unscaled, unscaled
    (half,) = messages(hand(lambda p: p / 2, lambda p: 1 / (1 - p / 2)))
    assert "kept elements scaled x1.33" in half and "of 3840 elements; expected 50% ± 4%" in half, half


def test_the_encoder_block_dropout_check_rejects_no_right_answer_over_2000_seeds():
    """Each AddNorm's rate within checking.rate_bound (at most 1e-6 per grading), the scales exact:
    the reference's EncoderBlock over 2,000 draws, none rejected."""
    p, args, state, X, valid_lens = checks.encoder_dropout_case(torch.Generator().manual_seed(2026))
    module = ref.EncoderBlock(*args)
    module.load_state_dict(state)
    module.train()
    assert _rejections(lambda: checks.expect_encoder_rows(module(X, valid_lens), X, state, p, "cpu")) == 0


def test_an_encoder_block_whose_addnorm_drops_at_half_the_rate_is_told_the_rate():
    """Written by hand (its own draws, not the known mistake's): the first AddNorm at half the rate;
    the message names it and what was measured."""
    class EncoderBlock(ref.EncoderBlock):
        def forward(self, X, valid_lens):
            attended = self.attention(X, X, X, valid_lens)
            if self.training:
                rate = self.addnorm1.dropout.p / 2
                attended = attended * torch.bernoulli(torch.full_like(attended, 1 - rate)) / (1 - rate)
            Y = self.addnorm1.ln(X + attended)
            return self.addnorm2(Y, self.ffn(Y))
    level = judge_reference("transformer", ["encoder_block"], EncoderBlock=EncoderBlock)["encoder_block"]
    (message,) = [c.message for c in level.checks if c.name.startswith("训练模式、dropout=0.5") and not c.passed]
    assert "the first AddNorm dropped" in message and "of 1024 rows; expected 50% ± 8%" in message, message
    assert "the second" not in message
