"""nbgrader's submit for the course's students (copied into each student's ~/.jupyter by
`python -m autograder.tools.student_setup`; nbgrader_config.py there names it).

Stock nbgrader copies a submission without the files `CourseDirectory.ignore` names
(.ipynb_checkpoints, __pycache__, ...), but its check "is every released notebook there, and
nothing else?" looks at every notebook on disk: each checkpoint JupyterLab keeps is reported as
an EXTRA submitted notebook that was never sent. This check looks at what is sent.
"""
import fnmatch
import os

from nbgrader.exchange.default.submit import ExchangeSubmit
from nbgrader.utils import find_all_notebooks


class CourseSubmit(ExchangeSubmit):
    def check_filename_diff(self):
        released = set(find_all_notebooks(self.release_path))
        sent = {nb for nb in find_all_notebooks(self.src_path) if not ignored(nb, self.coursedir.ignore)}
        missing, extra = sorted(released - sent), sorted(sent - released)
        if not (missing or extra):
            return
        expected = "\n\t".join(f"{nb}: {'FOUND' if nb in sent else 'MISSING'}" for nb in sorted(released))
        submitted = "\n\t".join(f"{nb}: {'OK' if nb in released else 'EXTRA'}" for nb in sorted(sent))
        diff = f"Expected:\n\t{expected}\nSubmitted:\n\t{submitted}"
        if missing and self.strict:
            self.fail(f"Assignment {self.coursedir.assignment_id} not submitted. "
                      f"There are missing notebooks for the submission:\n{diff}")
        self.log.warning("Possible missing notebooks and/or extra notebooks submitted for assignment %s:\n%s",
                         self.coursedir.assignment_id, diff)


def ignored(relpath: str, patterns) -> bool:
    """Whether nbgrader's copy leaves `relpath` out: one of its parts matches an ignore pattern."""
    return any(fnmatch.fnmatch(part, pattern) for part in relpath.split(os.sep) for pattern in patterns)
