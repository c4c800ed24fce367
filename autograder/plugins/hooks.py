"""nbgrader autograde's hooks around each submission (course_config.apply sets both):

- before: take the course's gradebook lock (the grading service is the other writer), then take
  links and special files out of the submitted folder (left_out.take_out_links);
- after: let the lock go. A submission that fails skips nbgrader's after-hook: the next
  submission's before-hook finds the lock held, and the exporter lets it go at the command's end.
"""
import course_config
from autograder.engine.gradebook_lock import GradebookLock
from autograder.plugins.left_out import take_out_links


def before_submission(**submission):
    GradebookLock.of(course_config.ROOT).hold()
    take_out_links(**submission)


def after_submission(**_):
    GradebookLock.of(course_config.ROOT).let_go()
