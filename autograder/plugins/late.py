"""nbgrader's late-submission plugin for the course: the penalty of course_config's LatePolicy
(autograder/late.py) for the seconds nbgrader counts past the due date, the student's extension
included (course_config.EXTENSIONS). nbgrader records it per notebook; `nbgrader export` shows the
raw score, the penalty and the score."""
from nbgrader.plugins import LateSubmissionPlugin

import course_config
from autograder.late import extensions, late_penalty


class CourseLatePenalty(LateSubmissionPlugin):
    def late_submission_penalty(self, student_id: str, score: float, total_seconds_late: float):
        assignment = self.parent.assignment_id  # AssignLatePenalties, on this submission
        try:
            policy = course_config.late_policy(assignment)
        except KeyError:  # not one of the course's assignments: nbgrader's own method
            return super().late_submission_penalty(student_id, score, total_seconds_late)
        # a first submission has no gradebook row before this command: its extension is set here
        submission = self.parent.gradebook.find_submission(assignment, student_id)
        extension = extensions().get((student_id, submission.assignment.name))
        if submission.extension != extension:
            submission.extension = extension
            self.parent.gradebook.db.commit()
            total_seconds_late = submission.total_seconds_late
        late = late_penalty(policy, score, total_seconds_late)
        if late.why:
            self.log.info("%s / %s: %s", student_id, assignment, late.why)
        return late.points
