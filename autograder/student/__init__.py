"""What a student's own environment gets (copied there by autograder.tools.student_setup): nbgrader's
submit that skips what it does not copy, and the JupyterLab hook that saves before Submit."""
