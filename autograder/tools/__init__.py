"""Tools around the course: build, demo, report, bench (each a `python -m` command)."""
