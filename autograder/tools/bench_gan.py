"""The GAN training check over seeds: its time, and how often the reference and each known-wrong
version pass it (08_gan's `test_gan_learns_a_gaussian`, run as the judge runs it).

    python -m autograder.tools.bench_gan [--seeds 20] [--only NAME ...]

Prints; it asserts nothing (tests/test_checks_gan.py holds what must hold).
"""
import argparse
import time
from pathlib import Path

import torch

import reference_solutions.gan as ref
from autograder.checks import test_gan as checks
from autograder.engine.student import LocalStudent
from reference_solutions.known_wrong.gan import WRONG


def notebook_student(**overrides):
    """The reference as one notebook namespace with `overrides` in it: unlike a module copy, the
    reference's own functions then call the replaced names (train_gan calls a wrong update_D)."""
    namespace = {}
    exec(compile(Path(ref.__file__).read_text(), ref.__file__, "exec"), namespace)
    namespace.update(overrides)
    return LocalStudent(namespace)


def one_run(student, seed):
    """(passed, seconds, mean, std, μ, σ) of the training check for `student` with the seed's draws."""
    rng = torch.Generator().manual_seed(seed)
    g_state, d_state, mu, sigma, real, noise = checks.gan_case(rng)
    start = time.perf_counter()
    try:
        trained = student.run(checks.train_student_gan, g_state, d_state, real, noise, *checks.TRAINING.values())
    except Exception:  # a version that cannot train fails the check
        return False, time.perf_counter() - start, float("nan"), float("nan"), mu, sigma
    seconds = time.perf_counter() - start
    passed, mean, std = checks.gan_verdict(trained[0], mu, sigma, rng)
    return passed, seconds, mean, std, mu, sigma


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--only", nargs="*", help="reference and/or known-wrong names")
    args = parser.parse_args()
    torch.set_num_threads(1)  # as the grading kernel
    versions = [("reference", {})] + [(w.name, w.overrides) for w in WRONG]
    for name, overrides in versions:
        if args.only and name not in args.only:
            continue
        student = notebook_student(**overrides)
        runs = [one_run(student, seed) for seed in range(args.seeds)]
        passed = sum(r[0] for r in runs)
        times = sorted(r[1] for r in runs)
        worst_mean = max(abs(r[2] - r[4]) / r[5] for r in runs)
        ratios = [r[3] / r[5] for r in runs]
        print(f"{name:<36} passes {passed:>2}/{args.seeds}  time {times[0]:.2f}-{times[-1]:.2f} s  "
              f"max |mean - μ| / σ {worst_mean:.2f}  std / σ {min(ratios):.2f}-{max(ratios):.2f}", flush=True)


if __name__ == "__main__":
    main()
