"""查重: how alike the students' code is, per level and overall (autograder/tools/similarity.py is the command).

  fingerprints.py  code -> tokens -> winnowed k-gram fingerprints, each mapped back to its span
  submissions.py   a class's submitted notebooks -> each student's code per level (read within budgets)
  compare.py       every pair of students, boilerplate, shared code and public sources set apart
  page.py          the ranked HTML page (zh/en, side by side, matches highlighted) and the CSV
  public_sources/  public code (a match there is never collusion): the seeds' and d2l's code as the
                   pages print it; extend it, or course_config.SIMILARITY
"""
from pathlib import Path

PUBLIC_SOURCES = Path(__file__).with_name("public_sources")
