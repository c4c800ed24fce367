"""The grading engine: one submission in, one result out; a class as one Dask task per submission.

  submission  a submission as plain values (notebook bytes, files) and the key of what runs
  grade_one   one submission → one result (a worker's task; a command too)
  result      a result as typed values (Result, Level, Check), JSON in and out
  store       results by key on disk (run key + grader version), written atomically
  gradebook_lock  one gradebook writer at a time: autograde's hooks and the grading service
  classroom   a class on Dask: a local cluster here, an existing scheduler or Slurm jobs; results back
  slurm       the class's Slurm jobs (dask-jobqueue), sized to it, released when it ends
  channel     the cluster's own channel: mutual TLS on every Dask connection, no HTTP listener
  kernel      a submission's kernel, in its own sandbox and scratch folder, destroyed after
  kernel_factory, zygote_main   a worker's warm factory that forks kernels (torch imported once)
  session     the student's cells run once in that kernel; then it answers the judge
  sandbox     how the kernel is isolated on this machine; cgroups, reveal: two of its layers
  nofollow    reading what a student could have written: no link followed, every read budgeted
  replies     a reply of the student's code, checked against its budget before it is decoded
  judge       an assignment's hidden checks (pytest, autograder/checks) against a Student
  student     the `Student` the checks call: in-process (tests) or in the kernel (grading)
  agent       the student-side half of the plain-data protocol (sent into the kernel)
  plain       the plain data that may cross between the kernel and the judge
"""
