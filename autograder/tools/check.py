"""`make check A=07_transformer`: one assignment's contract, for the maintainer's loop.

    python -m autograder.tools.check 07_transformer     (its folder or name)

Runs that assignment's cases of the contract tests: the reference gets every point, the untouched
release notebook 0, every known mistake is rejected with its message (tests/test_checks_every_assignment.py),
what is particular to it, the seeds' code accepted among it (tests/test_checks_<name>.py); then its
source/ and release/ against a fresh build of it alone. Prints the time; exits non-zero on any failure.
"""
import argparse
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import course_config
from autograder.tools import build

ROOT = course_config.ROOT


def pytest_command(spec) -> list:
    tests = ["tests/test_checks_every_assignment.py", f"tests/test_checks_{spec.name}.py"]
    return [sys.executable, "-m", "pytest", "-q", "--no-header", *tests, "--assignment", spec.folder]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("assignment", help="e.g. 07_transformer (course_config.ASSIGNMENTS)")
    args = parser.parse_args(argv)
    try:
        spec = course_config.assignment(args.assignment)
    except KeyError as error:
        parser.error(f"{error.args[0]}; one of: {', '.join(s.folder for s in course_config.ASSIGNMENTS)}")
    start = time.perf_counter()
    with ThreadPoolExecutor(1) as pool:  # the build (mostly nbgrader's start) beside the tests
        building = pool.submit(build.differences, spec.folder)
        tests = subprocess.run(pytest_command(spec), cwd=ROOT).returncode
        drift = building.result()
    print(f"build: {'out of date (run `make release`): ' + ', '.join(drift) if drift else 'in sync'}")
    verdict = "ok" if tests == 0 and not drift else "FAILED"
    print(f"make check A={spec.folder}: {verdict} in {time.perf_counter() - start:.1f} s")
    return 0 if verdict == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
