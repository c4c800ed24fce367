"""`make gpu-check` (autograder/tools/gpu_check.py): CI has no GPU, so the same proof runs here on
CPU, and the GPU run must refuse plainly rather than pass without a GPU."""
import subprocess
import sys

import pytest
import torch

from autograder.tools.gpu_check import SPEC
from tests.conftest import require_sandbox

FULL = f"{sum(level.points for level in SPEC.levels):g}/{sum(level.points for level in SPEC.levels):g}"


def gpu_check(*args):
    return subprocess.run([sys.executable, "-m", "autograder.tools.gpu_check", *args], capture_output=True,
                          text=True, timeout=600)


def test_the_proof_holds_on_cpu():
    require_sandbox()
    run = gpu_check("--device", "cpu")
    assert run.returncode == 0, run.stdout + run.stderr
    reference, wrong = run.stdout.splitlines()[:2]
    assert reference.startswith("reference") and FULL in reference and "kernel on cpu" in reference
    assert wrong.startswith("gates_use_tanh") and FULL not in wrong and "bwrap=on" in wrong
    assert "gpu-check: passed on cpu" in run.stdout


@pytest.mark.skipif(torch.cuda.is_available(), reason="this host has a GPU: `make gpu-check` proves it there")
def test_without_a_gpu_it_refuses_with_the_reason():
    run = gpu_check()
    assert run.returncode == 2 and "no CUDA device here" in run.stderr


@pytest.mark.gpu
def test_the_proof_holds_on_cuda():
    run = gpu_check()
    assert run.returncode == 0, run.stdout + run.stderr
    assert "kernel on cuda" in run.stdout
