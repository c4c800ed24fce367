"""The course's commands, each `python -m autograder.tools.NAME` (most behind a `make` target):

  build              source/'s solution cells from the references, coursekit copies, release/ by nbgrader
  check              one assignment's contract, timed: the maintainer's loop (`make check A=...`)
  demo               a scratch course graded with three sample students (`make demo`)
  report             a class report per assignment: table, HTML, plot (`make report A=...`)
  similarity         查重 for a class (`make similarity A=...`); similarity_class: a made-up class to measure it
  student_setup      a student's own nbgrader set-up (exchange, course id, no instructor tools)
  service_world      a course, an exchange and a running grading service (the service's tests and bench)
  slurm_local        a Slurm on this machine (munged, slurmctld, slurmd as processes): the Slurm tests, the bench
  hub                the course's JupyterHub (`make hub`, `make hub-stop`), under a keeper that ends all it started
  roster             the class roster: gradebook, Unix accounts (homes 0700), the students' hub group
  hub_class          a scratch class on the hub, set up by the README's commands (tests/test_hub.py, bench_hub)
  gpu_check          on a GPU host: a CUDA assignment graded in the sandbox on the GPU (`make gpu-check`)
  bench, bench_channel, bench_slurm, bench_gan, bench_rnn, bench_seq2seq, bench_similarity, bench_service, bench_hub
                     `make bench`'s figures (bench_hub: the hub's start and restart, a student's server start
                     and its idle memory, PSS)
"""
