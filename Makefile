# The course's commands. `make demo` and `make test` work on a fresh machine: they create the
# virtual environment first if it is missing.
VENV := .venv
PY := $(VENV)/bin/python
# Debian's interpreter where there is one (any other works too: the sandbox binds a venv's hidden
# interpreter back; tests/test_sandbox.py builds such a layout from this one).
BASE_PYTHON := $(shell test -x /usr/bin/python3 && /usr/bin/python3 -c 'import venv, ensurepip' 2>/dev/null && echo /usr/bin/python3 || echo python3)

.PHONY: demo test release sandbox browser slurm report bench gpu-check clean similarity lint check hub hub-stop

# The grading sandbox needs bubblewrap (Debian package); installed when we are root and it is
# missing. Without it grading stops (unless course_config.ALLOW_UNISOLATED) and says how to install it.
sandbox:
	@command -v bwrap >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null) ; } || \
	  echo "warning: bubblewrap not installed: grading will refuse to run (see course_config.ALLOW_UNISOLATED)"

# The Slurm tests (tests/test_slurm.py) and `make bench` start munged, slurmctld and slurmd on
# localhost (autograder/tools/slurm_local.py): Debian's slurm-wlm and munge, installed when we are
# root and they are missing. Without them the Slurm tests are skipped with this reason.
slurm:
	@{ command -v sbatch >/dev/null && test -x /usr/sbin/slurmctld && test -x /usr/sbin/munged ; } || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null) ; } || \
	  echo "warning: slurm-wlm and munge not installed: the Slurm tests will be skipped"

# The browser test (tests/test_browser.py) drives Debian's Chromium; a Chinese font makes its
# screenshots and the report's plot readable. Installed when we are root and they are missing.
browser:
	@{ command -v chromium >/dev/null && fc-list :lang=zh 2>/dev/null | grep -q . ; } || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null) ; } || \
	  echo "warning: chromium not installed: the browser test will be skipped"

$(VENV)/.installed: requirements.txt pyproject.toml
	test -x $(PY) || $(BASE_PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-build-isolation --no-deps -e .
	touch $@

venv: $(VENV)/.installed

# Build release/ from source/, grade three sample submissions with `nbgrader autograde`, print the gradebook.
demo: $(VENV)/.installed sandbox
	$(PY) -m autograder.tools.build
	$(PY) -m autograder.tools.demo

# The whole test suite.
test: $(VENV)/.installed sandbox browser slurm
	$(PY) -m pytest -q

# Regenerate source/'s solution cells from reference_solutions/ and release/ from source/.
release: $(VENV)/.installed
	$(PY) -m autograder.tools.build

# One assignment's contract, timed: `make check A=07_transformer` (reference full, stub 0, every known
# mistake rejected, seeds' code accepted, build in sync).
check: $(VENV)/.installed
	$(PY) -m autograder.tools.check $(A)

# A class report for one assignment: `make report A=01_multihead_attention` (table, HTML, PNG).
report: $(VENV)/.installed
	$(PY) -m autograder.tools.report $(A)

# 查重: how alike a class's submissions are: `make similarity A=01_multihead_attention` (HTML and CSV
# in artifacts/report/; a high score is a reason to look, not a verdict).
similarity: $(VENV)/.installed
	$(PY) -m autograder.tools.similarity $(A)

# The start of a local cluster over plain TCP beside the course's over TLS; grading speed: stock
# nbgrader vs the judge on a class of 40, side by side (prints its figures), then 08_gan's training
# check over 20 seeds: its time and every version's pass rate, then 查重 on a class of 200, then
# 评测 on submit (as root: its students are accounts of this host).
bench: $(VENV)/.installed sandbox slurm
	$(PY) -m autograder.tools.bench_channel
	$(PY) -m autograder.tools.bench_slurm  # to the first graded submission: Slurm jobs vs the local cluster
	$(PY) -m autograder.tools.bench
	$(PY) -m autograder.tools.bench_gan
	$(PY) -m autograder.tools.bench_similarity
	$(PY) -m autograder.tools.bench_service  # 评测 on submit: submit->fetch_feedback p50/p95, a burst of 40, autograde reuse

# On a GPU host: grade 05's reference and a known-wrong submission inside the sandbox with the
# checks on CUDA; fails unless the reference gets full marks, the wrong one loses, and the
# kernels really ran on CUDA (exit 2 where there is no GPU).
gpu-check: $(VENV)/.installed sandbox
	$(PY) -m autograder.tools.gpu_check

# Lint: ruff (pinned in requirements.txt; rules and line length in pyproject.toml). CI runs it beside `make test`.
lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .

# The course on JupyterHub (README "Run the course on JupyterHub"), as root: the hub, its proxy from npm
# (package-lock.json, into node_modules/), the formgrader and the grading service as hub services;
# `make hub-stop` stops it with every process it started (users' servers and kernels too).
hub: $(VENV)/.installed node_modules/.installed
	$(PY) -m autograder.tools.hub start

hub-stop:
	$(PY) -m autograder.tools.hub stop

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

clean:
	rm -rf demo artifacts autograded submitted feedback gradebook.db grading_results
