"""`nbgrader collect` that takes only what autograder/inbound.py calls a student's submission.

nbgrader's own collect only warns when a folder's owner is not the student it names, then collects
it: a student could write a folder named for a classmate, with a far-future time, and have it
kept as the classmate's final submission; a name whose time does not parse stops the whole
command. Here such entries are left in the exchange, each with a warning, and each student's
latest own submission is collected as nbgrader would. The collected copy's timestamp.txt is when
the folder arrived (late.arrival_time: a time its owner cannot move earlier), not the one they wrote.
"""
import time
from pathlib import Path

from nbgrader.exchange.default import ExchangeCollect

from autograder import inbound, late


class OwnerCheckedCollect(ExchangeCollect):
    def _path_to_record(self, path):
        try:
            record = super()._path_to_record(path)
            record["refused"] = inbound.refusal(path, record["username"])
        except Exception as error:  # a name without three parts, or a time that does not parse
            name = str(path).rsplit("/", 1)[-1]
            record = {"username": name.split("+")[0], "filename": name, "timestamp": None,
                      "refused": f"not a submission's name ({type(error).__name__})"}
        if record["refused"]:
            self.log.warning("%s: not collected: %s", record["filename"], record["refused"])
        return record

    def _sort_by_timestamp(self, records):
        """The student's own submissions first, latest first (nbgrader takes the first)."""
        own = super()._sort_by_timestamp([r for r in records if not r["refused"]])
        return own + [r for r in records if r["refused"]]

    def do_copy(self, src, dest):
        super().do_copy(src, dest)
        arrived = min(late.arrival_time(Path(src)), time.time())
        (Path(dest) / "timestamp.txt").write_text(late.timestamp_text(arrived))

    def copy_files(self):
        self.src_records = [r for r in self.src_records if not r["refused"]]
        super().copy_files()
