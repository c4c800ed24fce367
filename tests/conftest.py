"""Shared fixtures: a CUDA skip with a reason. (The course is an installed package: `make venv`.)"""
import pytest
import torch

CUDA = torch.cuda.is_available()


def pytest_collection_modifyitems(items):
    skip = pytest.mark.skip(reason="no CUDA device here (CI is CPU-only); run on a GPU machine")
    for item in items:
        if "gpu" in item.keywords and not CUDA:
            item.add_marker(skip)


def devices():
    """The devices the checks run on: CPU always, CUDA (marked gpu) too."""
    return ["cpu", pytest.param("cuda", marks=pytest.mark.gpu)]


def require_sandbox():
    """Skip (with the reason) where bubblewrap is not installed; fail where it is installed but
    the sandbox does not work: CI must never silently grade unisolated."""
    import shutil
    from autograder.engine import sandbox
    if sandbox.isolation().bwrap:
        return
    if shutil.which("bwrap"):
        pytest.fail(f"bubblewrap is installed but the sandbox does not work here [{sandbox.isolation().describe()}]")
    pytest.skip("bubblewrap is not installed (`make sandbox` installs it as root): grading ran unisolated")
