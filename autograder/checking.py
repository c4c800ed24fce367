"""The check author's API: mark a check's level, compare with the reference, name the mistake.

A check is a pytest test in `autograder/checks/test_<assignment>.py`:

    @level("masked_softmax")
    def test_1d_valid_lens(student, rng, device):
        "一维 valid_lens / 1-D valid_lens"
        X = torch.rand(2, 3, 5, generator=rng)
        expect_close(student.call("masked_softmax", X, lens, device=device),
                     ref.masked_softmax(X, lens), mistakes=wrong_outputs(...))

The first docstring line names the check in the verdict table. A failed expectation raises
`CheckFailed` with what was expected, what came, and what it likely means.
"""
import math
from contextvars import ContextVar

import pytest
import torch

from autograder.messages import t
from autograder.engine.plain import describe


def level(name: str):
    """Mark a check as part of a level (the notebook's `check_<name>` cell)."""
    return pytest.mark.level(name)


class CheckFailed(AssertionError):
    """A check's verdict: expected vs got, and a message that explains the difference."""

    def __init__(self, message: str, expected=None, got=None, without_answer: str = ""):
        super().__init__(message)
        self.message = message
        self.expected, self.got = expected, got
        self.without_answer = without_answer or message  # the message less an answer key's answer


class Trace:
    """What the current check compared last: shown as 'expected' / 'got' in the verdict table."""

    def __init__(self):
        self.expected = self.got = ""
        self.answer_key = False  # `expected` is an answer key: feedback shows it only if SHOW_EXPECTED


_current_trace = ContextVar("trace")  # per thread: a worker's checks never see another's


def new_trace() -> Trace:
    """A fresh trace for the check about to run (the judge calls this before each check)."""
    trace = Trace()
    _current_trace.set(trace)
    return trace


class _CurrentTrace:
    """`trace.expected = ...` sets the running check's trace."""

    def __getattr__(self, name):
        return getattr(_current_trace.get(None) or new_trace(), name)

    def __setattr__(self, name, value):
        setattr(_current_trace.get(None) or new_trace(), name, value)


trace = _CurrentTrace()


def tolerance(device: str, dtype=torch.float32):
    """(atol, rtol) per device and dtype: CUDA kernels reorder sums (and may use TF32)."""
    if dtype in (torch.float16, torch.bfloat16):
        return 1e-2, 1e-2
    return (1e-5, 1e-4) if device == "cpu" else (1e-4, 1e-3)


def expect_close(got, expected, *, device="cpu", mistakes=(), what=""):
    """`got` must be a tensor of `expected`'s shape and values.

    mistakes: (known-wrong output, message) pairs; if `got` matches one, its message is the
    likely cause shown to the student."""
    expected = expected.detach().cpu()
    trace.expected, trace.got = describe(expected), describe(got)
    expect_shape_of(got, expected, what)
    atol, rtol = tolerance(device, expected.dtype)
    got = got.to(expected.dtype)
    if torch.allclose(got, expected, atol=atol, rtol=rtol, equal_nan=False):
        return
    for wrong, message in mistakes:
        if wrong.shape == got.shape and torch.allclose(got, wrong.detach().cpu().to(got.dtype),
                                                       atol=atol, rtol=rtol):
            raise CheckFailed(message)
    error = (got - expected).abs().nan_to_num(float("inf"))
    index = tuple(int(i) for i in torch.unravel_index(error.argmax(), error.shape))
    raise CheckFailed(t(
        f"数值不对：在位置 {index} 应为 {expected[index].item():.5g}，得到 {got[index].item():.5g}",
        f"wrong values: at {index} expected {expected[index].item():.5g}, got {got[index].item():.5g}"))


def expect_shape_of(got, expected, what=""):
    """`got` must be a tensor of `expected`'s shape."""
    if not isinstance(got, torch.Tensor):
        raise CheckFailed(t(f"{what}应返回张量，得到 {type(got).__name__}",
                            f"{what} should return a tensor, got {type(got).__name__}".strip()))
    if tuple(got.shape) != tuple(expected.shape):
        raise CheckFailed(t(f"形状应为 {tuple(expected.shape)}，得到 {tuple(got.shape)}",
                            f"expected shape {tuple(expected.shape)}, got {tuple(got.shape)}"))


def expect_dropped_out(got, kept, p, *, rows=False, device="cpu", mistakes=(), what=""):
    """`got` must be dropout at rate p (train mode) of `kept`, what reaches the dropout (computed here):
    each element (each row of the last axis, rows=True) either 0 or kept / (1 - p), and the fraction
    of them that is 0 within rate_bound of p (a right answer rejected with probability at most
    FALSE_REJECTION). Which ones are dropped is the student's draw: only the law is checked. The
    message says what was measured: the fraction dropped, the scale of what was kept.

    mistakes: as for expect_close, computed on the student's seed (they match where the draws do);
    one is named only where no other mistake gives the same output."""
    kept = kept.detach().cpu().float()
    zh, en = ("行", "row") if rows else ("元素", "element")
    trace.expected = t(f"每个{zh}为 0 或 输入/(1-p)，约 {p:.0%} 为 0", f"each {en} 0 or input/(1-p), about {p:.0%} 0")
    trace.got = describe(got)
    expect_shape_of(got, kept, what)
    atol, rtol = tolerance(device)
    got = got.detach().cpu().float()
    scale = 1 / (1 - p)
    zero, same = got.abs() <= atol, torch.isclose(got, kept * scale, atol=atol, rtol=rtol)
    if rows:
        zero, same = zero.all(dim=-1), same.all(dim=-1)
    n, dropped = zero.numel(), zero.float().mean().item()
    bound = rate_bound(n)
    if (zero | same).all() and abs(dropped - p) <= bound:
        return
    name_the_mistake(got, mistakes, atol, rtol)
    measured = _kept_scale(got, kept, atol, rtol)
    if measured is None:
        index = tuple(int(i) for i in torch.nonzero(~(zero | same))[0])
        raise CheckFailed(t(f"训练模式下 dropout({p}) 之后每个{zh}应为 0 或 输入/(1-p)：在 {index} 应为 0 或 "
                            f"{describe((kept * scale)[index])}，得到 {describe(got[index])}",
                            f"in train mode, after dropout({p}) each {en} is 0 or input/(1-p): at {index} 0 or "
                            f"{describe((kept * scale)[index])} expected, got {describe(got[index])}"))
    zh_said, en_said = dropout_measured(measured, dropped, p, n, (zh, en))
    raise CheckFailed(t("；".join(zh_said), "; ".join(en_said)))


def name_the_mistake(got, mistakes, atol, rtol):
    """Fail with the one known mistake (wrong output, message) that `got` matches; nothing when none
    does, or when several do (mistakes that look alike here are named where they differ)."""
    named = {message for wrong, message in mistakes
             if wrong.shape == got.shape and torch.allclose(got, wrong.detach().cpu().float(), atol=atol, rtol=rtol)}
    if len(named) == 1:
        raise CheckFailed(named.pop())


def dropout_measured(measured, rate, p, n, unit=("元素", "element"), site=("", "")) -> tuple:
    """What a dropout did against what dropout(p) does: the scale it kept with (measured) and the
    fraction of n units it dropped (rate), each said only where it is wrong: ([zh], [en]) sentences."""
    scale, bound = 1 / (1 - p), rate_bound(n)
    (zh_unit, en_unit), (zh_site, en_site) = unit, site
    zh, en = [], []
    if abs(measured - scale) > 0.01:
        zh.append(f"{zh_site}保留的{zh_unit}乘以了 ×{measured:.2f}：p = {p} 时应乘以 ×{scale:g}（即 1/(1-p)）")
        en.append(f"{en_site}kept {en_unit}s scaled x{measured:.2f}; expected x{scale:g} for p = {p} (1/(1-p))")
    if abs(rate - p) > bound:
        counted = f"{n} {zh_unit}" if zh_unit == "行" else f"{n} 个{zh_unit}"
        zh.append(f"{zh_site}丢弃了 {counted}中的 {rate:.0%}：dropout({p}) 应约为 {p:.0%} ± {bound:.0%}")
        en.append(f"{en_site}dropped {rate:.0%} of {n} {en_unit}s; expected {p:.0%} ± {bound:.0%} for dropout({p})")
    return zh, en


def _kept_scale(got, kept, atol, rtol):
    """The one factor s with every element of `got` 0 or s x `kept` (s > 0), or None when there is none."""
    live = (got.abs() > atol) & (kept.abs() > 10 * atol)
    if not live.any():
        return None
    s = (got[live] / kept[live]).median().item()
    if s <= 0 or not (torch.isclose(got, kept * s, atol=atol, rtol=rtol) | (got.abs() <= atol)).all():
        return None
    return s


FALSE_REJECTION = 1e-6  # the most a statistical check may reject a right answer, per grading


def rate_bound(n: int, delta: float = FALSE_REJECTION) -> float:
    """How far the fraction of n independent draws may stray from its probability: Hoeffding's
    P(|k/n - p| >= e) <= 2 exp(-2 n e^2), set to delta, gives e = sqrt(ln(2/delta) / (2n))
    (0.084 for n = 1,024 at 1e-6), for any p."""
    return math.sqrt(math.log(2 / delta) / (2 * n))


def seeded(seed, compute):
    """compute() with torch's random seeded by `seed`; the caller's random state is left as it was."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return compute()


def seeded_call(ns, module, inputs, seed):
    """Runs beside the student's code (self-contained): module(*inputs), torch's random seeded first."""
    torch.manual_seed(seed)
    with torch.no_grad():
        return module(*inputs)


def built_and_called(ns, name, args, kwargs, state, train, inputs, seed):
    """Runs beside the student's code (self-contained), in one call into the kernel: the student's
    ns[name](*args, **kwargs), `state` loaded (None: its own), in train or eval mode, on the inputs'
    device, called on `inputs` with torch's random seeded by `seed`; (its output, the module)."""
    module = ns[name](*args, **kwargs)
    if state is not None:
        module.load_state_dict(state)
    module.train(train)
    module.to(next(x for x in inputs if isinstance(x, torch.Tensor)).device)
    torch.manual_seed(seed)
    with torch.no_grad():
        return module(*inputs), module


def expect_equal(got, expected, *, hints=None, secret=False, answer_key=False):
    """`got == expected` exactly (shapes, numbers, strings). hints: {wrong answer: message}.

    secret: the expected answer is a quiz's key: never shown, in the table or the message, so
    feedback cannot leak it. answer_key: the same answer for every student (not drawn at grading
    time): recorded, and shown in feedback only when course_config.SHOW_EXPECTED says so."""
    shown = t("（不公开）", "(not shown)") if secret else describe(expected)
    trace.expected, trace.got, trace.answer_key = shown, describe(got), answer_key
    if got == expected:
        return
    for wrong, message in (hints or {}).items():
        if got == wrong:
            raise CheckFailed(message)
    wrong_answer = t(f"答案不对：得到 {describe(got)}", f"wrong answer: got {describe(got)}")
    if secret:
        raise CheckFailed(wrong_answer)
    raise CheckFailed(t(f"应为 {shown}，得到 {describe(got)}", f"expected {shown}, got {describe(got)}"),
                      without_answer=wrong_answer)


class mistakes:
    """(output of each known-wrong implementation, its message), for `expect_close(mistakes=)`.

    compute(ns) computes the checked output from a namespace `ns` in which the wrong version
    replaces the reference's names; a wrong version that raises is left out. Lazy: computed on
    first use (when a check fails and its cause is looked for), then kept."""

    def __init__(self, reference_module, wrongs, compute):
        self.reference_module, self.wrongs, self.compute = reference_module, wrongs, compute
        self.pairs = None

    def __iter__(self):
        if self.pairs is None:
            self.pairs = list(self._computed())
        return iter(self.pairs)

    def _computed(self):
        from types import SimpleNamespace
        for wrong in self.wrongs:
            namespace = SimpleNamespace(**{**vars(self.reference_module), **wrong.overrides})
            try:
                with torch.no_grad():
                    output = self.compute(namespace)
            except Exception:
                continue
            yield output, t(wrong.zh, wrong.en)
