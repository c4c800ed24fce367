"""Hidden checks of 04_seq2seq_translation (seed 002 第2关): seeded and deterministic.

Shapes: B batch, T = seq_len (8) encoder steps, T+1 decoder steps, H = n_hidden, C = n_class.
The platform's own test ("highh" -> "low") hinges on one random initialisation; these checks do
not: exact tensors from make_batch, the forward pass with the reference's weights, the student's
trained weights on its training pairs, a fresh Seq2Seq trained by the judge (seeded loop) on pairs
the student never saw, and `translated` run on a model whose weights the judge supplies. Trained
weights are always judged here, with the reference's forward (the README's "Verdict outside the
student's process").
"""
import contextlib
import io

import torch
from torch.nn import functional as F

import reference_solutions.seq2seq_translation as ref
from autograder.checking import CheckFailed, expect_close, expect_equal, level, mistakes, trace
from autograder.messages import t
from autograder.engine.plain import Handle
from reference_solutions.known_wrong import seq2seq_translation as known
from reference_solutions.known_wrong.seq2seq_translation import WRONG

PAIRS = [['man', 'women'], ['black', 'white'], ['king', 'queen'], ['girl', 'boy'], ['up', 'down'], ['high', 'low']]
# Pairs the student never trains on: inputs of 5-8 letters (little padding, so a seeded loop
# converges in a few hundred epochs whatever the initialisation).
UNSEEN = [["happy", "sad"], ["early", "late"], ["summer", "winter"], ["north", "south"], ["light", "dark"],
          ["friend", "enemy"], ["winner", "loser"], ["strong", "weak"], ["always", "never"], ["before", "after"],
          ["father", "mother"], ["brother", "sister"], ["victory", "defeat"], ["sunrise", "sunset"],
          ["asleep", "awake"], ["ancient", "modern"], ["future", "past"], ["heavy", "light"], ["empty", "full"],
          ["arrive", "leave"], ["question", "answer"], ["teacher", "student"], ["winter", "summer"]]
FRESH_LR, FRESH_MAX_EPOCHS, FRESH_SNAPSHOT = 0.003, 600, 50
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def random_pairs(rng, n, lengths=(1, 8)):
    def word():
        size = int(torch.randint(lengths[0], lengths[1] + 1, (1,), generator=rng))
        return "".join(LETTERS[int(i)] for i in torch.randint(0, 26, (size,), generator=rng))
    return [[word(), word()] for _ in range(n)]


def decode(indices):
    """Character indices -> the translation: everything before the first 'P' (or 'E')."""
    text = "".join(ref.char_list[int(i)] for i in indices)
    for end in "PE":
        text = text.split(end)[0]
    return text


# ---------------------------------------------------------------- make_batch
def check_batch(student, pairs):
    got = student.call("make_batch", [list(p) for p in pairs])  # copies: the seed pads in place
    expected = ref.make_batch([list(p) for p in pairs])
    if not isinstance(got, (tuple, list)) or len(got) != 3:
        raise CheckFailed(t("make_batch 应返回三个张量 (input_batch, output_batch, target_batch)",
                            "make_batch should return three tensors (input_batch, output_batch, target_batch)"))
    names = ("input_batch", "output_batch", "target_batch")
    for index, (name, mine, theirs) in enumerate(zip(names, got, expected)):
        if isinstance(mine, torch.Tensor) and mine.dtype != theirs.dtype:
            trace.expected, trace.got = str(theirs.dtype), str(mine.dtype)
            raise CheckFailed(t(f"{name} 的类型应为 {theirs.dtype}，得到 {mine.dtype}",
                                f"{name} should be {theirs.dtype}, got {mine.dtype}")
                              + (t("（CrossEntropyLoss 的目标是类别下标）", " (CrossEntropyLoss takes class indices)")
                                 if name == "target_batch" else ""))
        wrong = mistakes(ref, WRONG.of("make_batch"),
                         lambda ns: ns.make_batch([list(p) for p in pairs])[index].float())
        expect_close(mine.float() if isinstance(mine, torch.Tensor) else mine, theirs.float(),
                     mistakes=wrong, what=name)


@level("make_batch")
def test_make_batch_training_pairs(student):
    """六个训练词对 / the six training pairs"""
    check_batch(student, PAIRS)


@level("make_batch")
def test_make_batch_random_words(student, rng):
    """随机单词（1 到 8 个字母） / random words (1 to 8 letters)"""
    check_batch(student, random_pairs(rng, 5))


@level("make_batch")
def test_make_batch_full_and_single_letters(student, rng):
    """8 个字母（无补齐）和 1 个字母的单词 / 8-letter (no padding) and 1-letter words"""
    pairs = random_pairs(rng, 2, (8, 8)) + random_pairs(rng, 2, (1, 1))
    check_batch(student, [pairs[0], [pairs[2][0], pairs[1][1]], [pairs[1][0], pairs[3][1]]])


# ---------------------------------------------------------------- Seq2Seq
def reference_model(rng):
    """The reference Seq2Seq with weights drawn from rng (not from the global seed)."""
    model = ref.Seq2Seq()
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=rng) * 0.2)
    return model


def student_model(student, device, model):
    handle = student.call("Seq2Seq")
    student.method(handle, "load_state_dict", model.state_dict())
    student.method(handle, "to", device)
    return handle


def model_inputs(rng, B):
    enc, dec, _ = ref.make_batch(random_pairs(rng, B))
    return enc, 0.3 * torch.randn(1, B, ref.n_hidden, generator=rng), dec


def check_forward(student, device, rng, B):
    model = reference_model(rng)
    enc, hidden, dec = model_inputs(rng, B)
    handle = student_model(student, device, model)
    got = student.method(handle, "__call__", enc, hidden, dec, device=device)
    if isinstance(got, torch.Tensor) and tuple(got.shape) == (B, ref.seq_len + 1, ref.n_class):
        raise CheckFailed(t("输出是 (B, T+1, C)：forward 应返回 (T+1, B, C)（时间在前，如种子代码）",
                            "the output is (B, T+1, C): forward returns (T+1, B, C), time first (as in the seed)"))

    def compute(ns):
        wrong = ns.Seq2Seq()
        wrong.load_state_dict(model.state_dict())
        return wrong(enc, hidden, dec)
    with torch.no_grad():
        expected = model(enc, hidden, dec)
    expect_close(got, expected, device=device, mistakes=mistakes(ref, WRONG.of("seq2seq_model"), compute))
    return got, model, (enc, hidden, dec)


@level("seq2seq_model")
def test_forward_shape_and_values(student, rng, device):
    """输出 (T+1, B, n_class)，与参考实现相同（同样的权重） / output (T+1, B, n_class), equal to the reference's (same weights)"""  # noqa: E501
    check_forward(student, device, rng, B=3)


@level("seq2seq_model")
def test_decoder_starts_from_encoder_state(student, rng, device):
    """解码器从编码器的最终隐藏状态开始 / the decoder starts from the encoder's final hidden state"""
    got, model, (enc, hidden, dec) = check_forward(student, device, rng, B=4)
    with torch.no_grad():  # an oracle written step by step with the same weights
        h = hidden[0]  # (B, H)
        for x in enc.transpose(0, 1):  # T steps of (B, C)
            h = torch.tanh(x @ model.encoder.weight_ih_l0.T + model.encoder.bias_ih_l0
                           + h @ model.encoder.weight_hh_l0.T + model.encoder.bias_hh_l0)
        outputs = []
        for x in dec.transpose(0, 1):  # T+1 steps of (B, C), from the encoder's final state
            h = torch.tanh(x @ model.decoder.weight_ih_l0.T + model.decoder.bias_ih_l0
                           + h @ model.decoder.weight_hh_l0.T + model.decoder.bias_hh_l0)
            outputs.append(model.fc(h))
    expect_close(got, torch.stack(outputs), device=device)


def train_fresh(namespace, pairs, seed, lr, epochs, snapshot_every, device):
    """Judge helper, run beside the student's code: a fresh `Seq2Seq()` trained on `pairs` with
    the student's `make_batch`, by a seeded batched loop; its weights every `snapshot_every`
    epochs back (judged here with the reference's forward: nothing the student's code computes
    while training is believed, and no expected output is sent)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(seed)
        model = namespace["Seq2Seq"]().to(device)
        enc, dec, target = namespace["make_batch"]([list(p) for p in pairs])
        enc, dec, target = enc.to(device), dec.to(device), target.to(device)
        hidden = torch.zeros(1, len(pairs), namespace["n_hidden"], device=device)  # (1, B, H)
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        snapshots = []
        for epoch in range(1, epochs + 1):
            optimizer.zero_grad()
            outputs = model(enc, hidden, dec).transpose(0, 1)  # (B, T+1, C)
            loss = torch.nn.functional.cross_entropy(outputs.reshape(-1, outputs.shape[-1]), target.reshape(-1))
            loss.backward()
            optimizer.step()
            if epoch % snapshot_every == 0:
                snapshots.append({k: v.detach().cpu().clone() for k, v in model.state_dict().items()})
        return snapshots
    finally:
        torch.set_num_threads(threads)


def reference_logits(state, enc, dec):
    """The reference Seq2Seq's logits (T+1, B, C) with the student's weights `state`."""
    model = ref.Seq2Seq()
    try:
        model.load_state_dict({k: v for k, v in state.items() if isinstance(v, torch.Tensor)})
    except (RuntimeError, AttributeError) as error:
        raise CheckFailed(t("模型的参数与脚手架的 Seq2Seq 不符（名字或形状：encoder、decoder、fc）",
                            "the model's weights do not fit the scaffold's Seq2Seq (names or shapes: encoder, "
                            "decoder, fc)") + f": {str(error)[:160]}")
    with torch.no_grad():
        return model(enc, torch.zeros(1, enc.shape[0], ref.n_hidden), dec)


@level("seq2seq_model")
def test_fresh_model_learns_unseen_pairs(student, rng, device):
    """评测程序训练一个新的 Seq2Seq（用你的 make_batch）学会没见过的词对 / a fresh Seq2Seq, trained by the judge with your make_batch, learns unseen pairs"""  # noqa: E501
    order = torch.randperm(len(UNSEEN), generator=rng)
    pairs = [UNSEEN[int(i)] for i in order[:6]]
    enc, dec, target = ref.make_batch(pairs)
    seed = int(torch.randint(0, 2 ** 31, (1,), generator=rng))
    snapshots = student.run(train_fresh, pairs, seed, FRESH_LR, FRESH_MAX_EPOCHS, FRESH_SNAPSHOT, device,
                            device=device)
    if not isinstance(snapshots, list) or not snapshots or not all(isinstance(s, dict) for s in snapshots):
        raise CheckFailed(t("训练没有返回模型参数", "the training returned no weights"))
    trace.expected = ", ".join(f"{a}→{b}" for a, b in pairs)
    for epochs, state in zip(range(FRESH_SNAPSHOT, FRESH_MAX_EPOCHS + 1, FRESH_SNAPSHOT), snapshots):
        predicted = reference_logits(state, enc, dec).argmax(2).T  # (B, T+1)
        trace.got = ", ".join(f"{a}→{decode(row)}" for (a, _), row in zip(pairs, predicted))
        if torch.equal(predicted, target):
            return
    raise CheckFailed(t(f"训练 {FRESH_MAX_EPOCHS} 轮后仍没学会：{trace.got}（检查 forward 与 make_batch）",
                        f"not learnt after {FRESH_MAX_EPOCHS} epochs: {trace.got} (check forward and make_batch)"))


# ---------------------------------------------------------------- training: the student's own model
def training_check(index):
    @level("training")
    def test(student):
        model = student.get("model")
        if not isinstance(model, Handle):
            raise CheckFailed(t("model 应是训练好的 Seq2Seq 实例", "model should be the trained Seq2Seq instance"))
        enc, dec, target = ref.make_batch(PAIRS)
        # The student's trained weights, run by the reference's forward here: not the student's
        # forward, which could read the answer from the notebook's variables or memory.
        logits = reference_logits(student.method(model, "state_dict"), enc, dec)  # (T+1, B, C)
        predicted = logits.argmax(2).T  # (B, T+1): teacher forced, which equals greedy decoding when right
        word, translation = PAIRS[index]
        trace.expected, trace.got = f"{word} → {translation}", f"{word} → {decode(predicted[index])}"
        if torch.equal(predicted[index], target[index]):
            return
        loss = F.cross_entropy(logits.transpose(0, 1).reshape(-1, ref.n_class), target.reshape(-1)).item()
        copies = (predicted == dec.argmax(2)).float().mean().item()
        if copies > 0.5:
            raise CheckFailed(t(*known.COPIES_INPUT))
        if loss > 2.5:
            raise CheckFailed(t(*known.UNTRAINED))
        raise CheckFailed(t(*known.NOT_FIT))
    word, translation = PAIRS[index]
    test.__doc__ = f"训练后的 model 翻译 {word} → {translation} / the trained model translates {word} → {translation}"
    test.__name__ = f"test_trained_model_translates_{word}"
    return test


for _index, (_word, _) in enumerate(PAIRS):
    globals()[f"test_trained_model_translates_{_word}"] = training_check(_index)


# ---------------------------------------------------------------- translated
def run_translated(namespace, state, words):
    """Judge helper, run beside the student's code: the student's `translated(word)` for each word,
    with the global `model` replaced by one holding the judge's weights; what it printed (or
    returned), or the error it raised."""
    import contextlib
    import io
    if "translated" not in namespace:
        raise NameError("name 'translated' is not defined")
    translated = namespace["translated"]
    C, H = state["fc.weight"].shape

    class Reference(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = torch.nn.RNN(C, H)
            self.decoder = torch.nn.RNN(C, H)
            self.fc = torch.nn.Linear(H, C)

        def forward(self, enc_input, enc_hidden, dec_input):
            _, h = self.encoder(enc_input.transpose(0, 1), enc_hidden)
            outputs, _ = self.decoder(dec_input.transpose(0, 1), h)
            return self.fc(outputs)

    model = Reference()
    model.load_state_dict(state)
    scope = getattr(translated, "__globals__", namespace)
    missing = object()
    saved = scope.get("model", missing)
    scope["model"] = model
    results = []
    try:
        for word in words:
            buffer = io.StringIO()
            try:
                with contextlib.redirect_stdout(buffer):
                    returned = translated(word)
                lines = [line.strip() for line in buffer.getvalue().splitlines() if line.strip()]
                results.append(returned if isinstance(returned, str) else (lines[-1] if lines else ""))
            except Exception as error:
                results.append({"error": type(error).__name__, "message": str(error)[:200]})
    finally:
        if saved is missing:
            scope.pop("model", None)
        else:
            scope["model"] = saved
    return results


def translate_with(function, word):
    """`function(word)` in this process with the global `model` set to the reference's trained one."""
    scope = function.__globals__
    saved = scope.get("model")
    scope["model"] = ref.model
    buffer = io.StringIO()
    try:
        with contextlib.redirect_stdout(buffer), torch.no_grad():
            function(word)
        return buffer.getvalue().strip().splitlines()[-1].strip()
    except Exception as error:
        return {"error": type(error).__name__}
    finally:
        scope["model"] = saved


def check_translated(student, words):
    got = student.run(run_translated, ref.model.state_dict(), words)
    for word, mine in zip(words, got):
        expected = translate_with(ref.translated, word)
        trace.expected, trace.got = f"translated({word!r}) → {expected}", f"translated({word!r}) → {mine}"
        if mine == expected:
            continue
        for wrong in WRONG.of("translated"):
            theirs = translate_with(wrong.overrides["translated"], word)
            if mine == theirs or (isinstance(mine, dict) and isinstance(theirs, dict)
                                  and mine.get("error") == theirs.get("error")):
                raise CheckFailed(t(wrong.zh, wrong.en))
        if isinstance(mine, dict):
            raise CheckFailed(t(f"translated({word!r}) 抛出了 {mine['error']}: {mine.get('message', '')}",
                                f"translated({word!r}) raised {mine['error']}: {mine.get('message', '')}"))
        expect_equal(mine, expected)


@level("translated")
def test_translated_platform_words(student):
    """头歌的测试输入 highh、kingh（评测程序提供的模型权重） / the platform's inputs highh, kingh (weights from the judge)"""  # noqa: E501
    check_translated(student, ["highh", "kingh"])


@level("translated")
def test_translated_training_words(student):
    """六个训练单词 / the six training words"""
    check_translated(student, [a for a, _ in PAIRS])


@level("translated")
def test_translated_random_words(student, rng):
    """随机单词 / random words"""
    words = []
    while len(words) < 3:  # words whose reference translation ends with padding, as translated expects
        word = random_pairs(rng, 1, (2, 7))[0][0]
        if isinstance(translate_with(ref.translated, word), str):
            words.append(word)
    check_translated(student, words)
