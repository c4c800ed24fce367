"""Grading for the course, by role:

  engine/      grading: one submission → one result (grade_one), a class on Dask (classroom),
               the kernel, its sandbox, the plain-data protocol, the judge that runs the checks
  plugins/     nbgrader's side: the exporter, RestoreCells, JudgeSubmission, the verdict's rendering
  checks/      the hidden checks, pytest tests marked by level (never in the student's reach)
  similarity/  查重: how alike a class's submissions are
  student/     what a student's own environment gets (nbgrader's submit, the lab extension)
  hub/         the course on JupyterHub: the hub's settings, login by the course's Unix groups
  tools/       the commands: build, demo, report, bench, similarity, student_setup, gpu_check, hub, roster
  service      评测 on submit: the grading service (`python -m autograder.service`)
  inbound      what an exchange inbound entry must be to count as its student's submission
  course_access  the course root closed to other accounts, checked at each start of the hub and the service
  late         late work: a policy's penalty, due dates, the arrival time a student cannot write
  checking     the check author's API: levels, expect_close / expect_equal, diagnosis
  messages     bilingual (zh/en) student-facing text
  regions      the student's Begin/End regions: the markers, defined once
  coursekit    the visible checks (评测) a release folder carries, for the student's own kernel
"""
