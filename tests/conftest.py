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
