"""The repository describes itself truly: each package's map (its docstring) names every module and
folder in it, and no comment cites a document that is not in the repository."""
import importlib
import re
from pathlib import Path

import pytest

import course_config

ROOT = course_config.ROOT
PACKAGES = ["autograder", "autograder.engine", "autograder.plugins", "autograder.similarity", "autograder.tools",
            "autograder.student", "autograder.hub"]


@pytest.mark.parametrize("package", PACKAGES)
def test_a_packages_map_names_every_module_in_it(package):
    module = importlib.import_module(package)
    folder = Path(module.__file__).parent
    names = {path.stem for path in folder.glob("*.py") if path.name != "__init__.py"}
    names |= {path.name for path in folder.iterdir()
              if path.is_dir() and not path.name.startswith(("_", ".")) and path.name != "templates"}
    missing = sorted(name for name in names if not re.search(rf"\b{re.escape(name)}\b", module.__doc__))
    assert not missing, f"{package}'s map does not name {missing}"


def test_no_comment_cites_a_document_that_is_not_here():
    cited = re.compile(r"DESIGN rule|DESIGN\.md|docs/[\w./-]+")
    found = []
    for path in [*ROOT.glob("autograder/**/*.py"), *ROOT.glob("tests/*.py"), *ROOT.glob("reference_solutions/**/*.py"),
                 ROOT / "course_config.py"]:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            for match in cited.finditer(line):
                target = match.group(0)
                if not target.startswith("docs/") or not (ROOT / target).exists():
                    found.append(f"{path.relative_to(ROOT)}:{number}: {target}")
    found = [line for line in found if "tests/test_layout.py" not in line]
    assert not found, found
