"""Benchmark of the recurrent assignments: the hidden training checks' time and perplexity
(05_rnn_from_scratch's scratch LSTM, 06_rnn_models's RNNModel over nn.GRU), and the scratch LSTM
against nn.LSTM (forward + backward), side by side.

    python -m autograder.tools.bench_rnn            CPU, one thread (as the grading kernel), and CUDA if present

Prints; it asserts nothing (the tests hold no timings).
"""
import argparse
import time

import torch
from torch import nn

import reference_solutions.rnn_from_scratch as ref
import reference_solutions.rnn_models as models_ref
from autograder.checks import test_rnn_from_scratch as checks
from autograder.checks import test_rnn_models as models_checks
from autograder.engine.student import LocalStudent


def training_check():
    """The hidden training check as the judge runs it: one student.run, then the perplexity here."""
    vocab_size, corpus = checks.hidden_corpus()
    params = checks.initial_params(torch.Generator().manual_seed(0), vocab_size, checks.TRAINING["num_hiddens"])
    student = LocalStudent.from_module(ref)
    start = time.perf_counter()
    trained = student.run(checks.train_char_lstm, corpus, params, *checks.TRAINING.values())
    seconds = time.perf_counter() - start
    return seconds, checks.perplexity(trained, corpus, **checks.TRAINING)


def model_training_check():
    """06's hidden training check as the judge runs it: one student.run, then the perplexity here."""
    vocab_size, corpus = models_checks.hidden_corpus()
    weights = models_checks.initial_weights(torch.Generator().manual_seed(0), vocab_size,
                                            models_checks.TRAINING["num_hiddens"])
    student = LocalStudent.from_module(models_ref)
    start = time.perf_counter()
    trained = student.run(models_checks.train_rnn_model, corpus, weights, *models_checks.TRAINING.values())
    seconds = time.perf_counter() - start
    return seconds, models_checks.perplexity(trained, corpus, **models_checks.TRAINING), \
        models_checks.perplexity(weights, corpus, **models_checks.TRAINING)


def fused_lstm(inputs, state, params):
    """All four gates from one matmul (tests/seed_code/fused_gates.py's form)."""
    W_x, W_h, b = torch.cat(params[0:12:3], 1), torch.cat(params[1:12:3], 1), torch.cat(params[2:12:3])
    H, C = state
    outputs = []
    for X in inputs:
        I, F, O, C_tilda = (X @ W_x + H @ W_h + b).chunk(4, dim=1)
        C = torch.sigmoid(F) * C + torch.sigmoid(I) * torch.tanh(C_tilda)
        H = torch.sigmoid(O) * torch.tanh(C)
        outputs.append(H @ params[12] + params[13])
    return torch.cat(outputs), (H, C)


def time_it(step, device, repeats):
    step()  # warm-up (cuDNN plans, allocator)
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        step()
    if device == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / repeats * 1000


def lstm_forward_backward(device, T=35, B=32, V=28, H=256, repeats=10):
    """ms per forward + backward of the scratch LSTM, its fused form and nn.LSTM, same weights."""
    rng = torch.Generator().manual_seed(0)
    params = [p.to(device).requires_grad_(True) for p in checks.lstm_params(rng, V, H)]
    inputs = torch.randn(T, B, V, generator=rng).to(device)
    state = (torch.zeros(B, H, device=device), torch.zeros(B, H, device=device))
    model = nn.LSTM(V, H).to(device)
    with torch.no_grad():
        for name, value in checks.nn_lstm_weights(params, 1).items():
            getattr(model, name).copy_(value)
    head = nn.Linear(H, V).to(device)

    def scratch(fn):
        def step():
            outputs, _ = fn(inputs, state, params)
            outputs.sum().backward()
        return step

    def torch_lstm():
        Y, _ = model(inputs, (state[0][None], state[1][None]))
        head(Y.reshape(-1, H)).sum().backward()

    return {name: time_it(step, device, repeats) for name, step in
            (("scratch lstm", scratch(ref.lstm)), ("fused-gate scratch", scratch(fused_lstm)),
             ("nn.LSTM" + (" (cuDNN)" if device == "cuda" else ""), torch_lstm))}


def main():
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    torch.set_num_threads(1)  # as the grading kernel (course_config.KERNEL_THREADS)
    seconds, ppl = training_check()
    print(f"05 hidden training check, scratch LSTM ({checks.TRAINING}): {seconds:.1f} s, perplexity {ppl:.2f} "
          f"(threshold {checks.PERPLEXITY_THRESHOLD})")
    seconds, ppl, untrained = model_training_check()
    print(f"06 hidden training check, RNNModel over nn.GRU ({models_checks.TRAINING}): {seconds:.1f} s, "
          f"perplexity {ppl:.2f} (untrained {untrained:.2f}, threshold {models_checks.PERPLEXITY_THRESHOLD})")
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for device in devices:
        times = lstm_forward_backward(device)
        print(f"{device}: forward + backward, T=35 B=32 V=28 H=256: " +
              ", ".join(f"{name} {ms:.1f} ms" for name, ms in times.items()))


if __name__ == "__main__":
    main()
