"""Benchmark for 04_seq2seq_translation, measured side by side in one run:

- the seed's training loop as written (5000 epochs, Adam 1e-3, one loss per sample),
- the scaffold's loop (the reference: one batched loss, stops below 0.001),
- the hidden check that trains a fresh Seq2Seq on unseen pairs (one `student.run` call).

    python -m autograder.tools.bench_seq2seq [--epochs 5001] [--threads 1]
"""
import argparse
import importlib.util
import time

import torch
from torch import nn

from autograder.engine.student import LocalStudent


def seed_loop(ref, epochs):
    """Seed 002's loop, verbatim but for Variable (a no-op): one loss per sample."""
    torch.manual_seed(4)
    model = ref.Seq2Seq()
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
    for epoch in range(epochs):
        hidden = torch.zeros(1, ref.batch_size, ref.n_hidden)
        optimizer.zero_grad()
        outputs = model(ref.input_batch, hidden, ref.output_batch).transpose(0, 1)
        loss = 0
        for i in range(ref.batch_size):
            loss += criterion(outputs[i], ref.target_batch[i])
        loss.backward()
        optimizer.step()
    return loss.item()


def scaffold_loop(ref):
    """The reference's loop: one batched loss, stop once it is below 0.001."""
    torch.manual_seed(4)
    model = ref.Seq2Seq()
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
    for epoch in range(3000):
        optimizer.zero_grad()
        outputs = model(ref.input_batch, torch.zeros(1, ref.batch_size, ref.n_hidden), ref.output_batch)
        loss = criterion(outputs.transpose(0, 1).reshape(-1, ref.n_class), ref.target_batch.reshape(-1))
        loss.backward()
        optimizer.step()
        if loss.item() < 0.001:
            break
    return epoch + 1


def timed(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - start, result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=5001, help="the seed loop's epochs (the seed: 5001)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    import reference_solutions.seq2seq_translation as ref
    from autograder.engine.judge import checks_file
    spec = importlib.util.spec_from_file_location("seq2seq_checks", checks_file("seq2seq_translation"))
    checks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(checks)

    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s)")
    seconds, loss = timed(seed_loop, ref, args.epochs)
    print(f"seed loop, {args.epochs} epochs, one loss per sample:     {seconds:6.2f} s (final loss {loss:.5f})")
    seconds, epochs = timed(scaffold_loop, ref)
    print(f"scaffold loop, batched loss, stop below 0.001:  {seconds:6.2f} s ({epochs} epochs)")
    student = LocalStudent.from_module(ref)
    for seed in range(3):
        rng = torch.Generator().manual_seed(seed)
        seconds, _ = timed(checks.test_fresh_model_learns_unseen_pairs, student, rng, "cpu")
        print(f"hidden check, fresh model on unseen pairs (#{seed}): {seconds:6.2f} s")


if __name__ == "__main__":
    main()
