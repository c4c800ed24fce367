"""nbgrader auto-loads this file from the course root; the course lives in course_config.py.

nbgrader only logs an exception raised here and then runs on its defaults (another database,
other paths): instead, any failure stops the command with the reason and exit status 2.
"""
import os
import sys
import traceback
import warnings

# nbgrader 0.9.6's own SQLAlchemy warnings ("Object of type <SubmittedAssignment> not in session")
# say nothing to an instructor: keep them out of the commands' output.
warnings.filterwarnings("ignore", message="Object of type .* not in session")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import course_config

    course_config.apply(get_config())  # noqa: F821 (provided by traitlets)
except BaseException:
    traceback.print_exc()
    sys.stderr.write("nbgrader_config.py: course_config.py failed (above); "
                     "refusing to run with nbgrader's defaults.\n")
    sys.stderr.flush()
    os._exit(2)
