"""`nbgrader export` for the course: grades.csv without assignments that no student could have done.

The course's gradebook holds every assignment that `generate_assignment` ever saw (`make release`
generates them all), and nbgrader's CSV export writes a 0.0 row per student for each of them.
Here an assignment is exported when it was released through the exchange (its outbound folder is
there) or someone submitted it (handed out by hand); `--assignment` still chooses as in nbgrader.
"""
from pathlib import Path

from nbgrader.plugins.export import CsvExportPlugin


class CourseExport(CsvExportPlugin):
    def export(self, gradebook) -> None:
        if not self.assignment:
            given = [a.name for a in gradebook.assignments if self._released(a) or a.submissions]
            never = sorted({a.name for a in gradebook.assignments} - set(given))
            if never:
                self.log.info("Leaving out assignments never released and never submitted: %s", ", ".join(never))
            # nbgrader exports every assignment when the list is empty: a name no assignment has keeps
            # the file to its header when none was released.
            self.assignment = given or ["(none released)"]
        super().export(gradebook)

    def _released(self, assignment) -> bool:
        coursedir = self.parent.coursedir
        root = self.config.Exchange.get("root") if "Exchange" in self.config else None
        return bool(root) and (Path(root) / coursedir.course_id / "outbound" / assignment.name).is_dir()
