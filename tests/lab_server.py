"""`jupyter lab` from the course's virtual environment, served on a free localhost port for a test
(tests/test_browser.py, tests/test_inert_html.py) and stopped by its process group's id."""
import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

TOKEN = "course-browser-test"
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def jupyter_lab(root: Path, env: dict, log_path: Path, *options, prefix=()):
    """`jupyter lab` serving `root` on a free localhost port, until the block ends: its base url.
    prefix: what the command runs under (e.g. setpriv as another account)."""
    port = free_port()
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            [*prefix, str(BIN / "jupyter"), "lab", "--no-browser", "--allow-root", "--ip=127.0.0.1", f"--port={port}",
             f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={root}", *options],
            cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    urllib.request.urlopen(f"{base}/api/status?token={TOKEN}", timeout=2)
                    break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError("jupyter lab did not start:\n" + log_path.read_text()[-3000:])
                    time.sleep(0.5)
            yield base
        finally:
            os.killpg(server.pid, 15)
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, 9)
