"""What a student's own environment gets (copied there by autograder.tools.student_setup):

  course_exchange  nbgrader's submit that skips what it does not copy
  labextension/    the JupyterLab hook that saves open notebooks before Submit
"""
