"""`make gpu-check`: on a GPU host, proof that the sandbox grades a CUDA assignment on the GPU.

Grades two submissions of the CUDA assignment (05_rnn_from_scratch) with `grade_one`, each in
its sandboxed kernel with the checks on CUDA: the reference, and a known-wrong one (its LSTM
gates use tanh where sigmoid belongs). Each submission ends with a cell that makes a tensor on
the device and prints where it is. Fails (exit 1) unless the reference gets full marks, the
known-wrong one loses points, and both kernels really ran on CUDA; exit 2 where there is no GPU.

    python -m autograder.tools.gpu_check              # on the GPU host
    python -m autograder.tools.gpu_check --device cpu # the same proof on CPU (what CI runs)
"""
import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat

import course_config
from autograder.engine.grade_one import grade_one
from autograder.engine.submission import Submission
from autograder.tools import demo

SPEC = course_config.assignment("05_rnn_from_scratch")  # CUDA where present, with a training check
PROBE = "import torch\nprint('DEVICE-PROBE', torch.zeros(1, device={device!r}).device.type)"


def gates_use_tanh(nb):
    """The known-wrong submission: every gate of its LSTM uses tanh where sigmoid belongs."""
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "lstm")
    assert "torch.sigmoid" in cell.source, "the reference LSTM no longer uses torch.sigmoid"
    cell.source = cell.source.replace("torch.sigmoid", "torch.tanh")


def probed(device, edit=None):
    def with_probe(nb):
        if edit:
            edit(nb)
        nb.cells.append(nbformat.v4.new_code_cell(PROBE.format(device=device)))
    return with_probe


def grade(course: Path, student: str, device: str, edit=None) -> dict:
    path = demo.submit(course, student, SPEC, [lv.name for lv in SPEC.levels], edit=probed(device, edit))
    submission = Submission.from_path(path, SPEC.folder, student, source=course / "source" / SPEC.folder)
    return grade_one(submission, course_config.LIMITS, device)


def ran_on(result) -> str:
    """The device the probe cell's tensor was on ("" where the cell failed)."""
    text = "".join(output.get("text", "") for cell in result.outputs for output in cell)
    return text.split("DEVICE-PROBE ", 1)[1].split()[0] if "DEVICE-PROBE " in text else ""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.tools.gpu_check", description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    device = parser.parse_args(argv).device
    if device == "cuda":
        import torch
        if not torch.cuda.is_available():
            print("gpu-check: no CUDA device here (torch.cuda.is_available() is False): run it on the GPU host",
                  file=sys.stderr)
            return 2
    with tempfile.TemporaryDirectory(prefix="gpu-check-") as folder:
        course = demo.make_course(Path(folder) / "course")
        shutil.copytree(course_config.ROOT / "release" / SPEC.folder, course / "release" / SPEC.folder)
        reference = grade(course, "reference", device)
        wrong = grade(course, "gates_use_tanh", device, gates_use_tanh)
    failures = []
    for name, result in (("reference", reference), ("gates_use_tanh", wrong)):
        print(f"{name:<16} {result.score:g}/{result.max_score:g}  checks on {result.device}, "
              f"kernel on {ran_on(result) or '?'}  [{result.isolation['layers']}]  "
              f"{result.timings.get('total_s', 0):.1f} s")
        for problem in result.problems:
            print(f"    ! {problem}")
        if result.device != device or ran_on(result) != device:
            failures.append(f"{name}: the checks ran on {result.device!r}, the kernel on {ran_on(result)!r}, "
                            f"not {device!r}")
    if reference.score != reference.max_score:
        failures.append(f"the reference got {reference.score:g}/{reference.max_score:g}, not full marks")
    lstm = wrong.levels["lstm"]
    if lstm.score >= lstm.points or wrong.score >= reference.score:
        failures.append(f"the known-wrong LSTM was not caught (lstm {lstm.score:g}/{lstm.points:g}, "
                        f"total {wrong.score:g})")
    for failure in failures:
        print(f"FAIL {failure}", file=sys.stderr)
    print("gpu-check: " + ("FAILED" if failures else f"passed on {device}"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
