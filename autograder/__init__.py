"""Grading for the course: hidden checks (pytest), the judge that runs them, the sandbox.

Modules, one idea each:
  messages   bilingual (zh/en) student-facing text
  plain      the plain-data codec between the student's kernel and the trusted judge
  student    the `Student` interface the checks call: in-process (tests) or in a kernel (grading)
  checking   the check author's API: levels, expect_close / expect_equal, diagnosis
  judge      runs an assignment's hidden checks against a Student, scores each level
  kernel     runs a submission's cells once in a (sandboxed) Jupyter kernel and serves calls
  sandbox    how the kernel is isolated on this machine
  nbgrader_judge  the nbgrader preprocessor that puts the judge into `nbgrader autograde`
  render     a level's verdict as check-cell outputs (table + score)
"""
