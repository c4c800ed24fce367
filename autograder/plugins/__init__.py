"""The course's nbgrader plug-ins, set by course_config.apply; one per file:

  exporter          GradingExporter: reads submissions (an unreadable one too) and, once per
                    command, hands the class to the grading engine
  hooks             autograde's pre/post-convert hooks: the gradebook lock, then left_out
  left_out          links and special files taken out of a submitted folder before nbgrader copies it
  collect           `nbgrader collect` that takes a folder only from the account it names
  late              nbgrader's late-submission plugin: course_config's LatePolicy
  restore_cells     RestoreCells (sanitising, in place of DeduplicateIds)
  judge_submission  JudgeSubmission (in place of Execute): the engine's result into the check cells
  render            a level's verdict as a check cell's outputs
  feedback          CourseFeedback: verdicts and formulas in `generate_feedback`'s pages
  inert             student HTML made inert in feedback and formgrader
  export            `nbgrader export`'s grades.csv without assignments nobody could do
"""
