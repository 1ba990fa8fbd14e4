"""gunicorn on loopback in production mode (DEBUG=0), for tests that need real worker processes.

Like `server_process.ServerProcess` (its own PostgreSQL database, driven over
HTTP), but with N sync workers as deployed, and gunicorn's output (access log
lines carry the worker's pid, then the status) kept for the test to read.
"""

import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .server_process import ROOT, ServerProcess


class GunicornProcess(ServerProcess):
    def __init__(self, db_name, base_database_url, workers=2, **env):
        super().__init__(db_name, base_database_url)
        self.workers = workers
        self.env.update(
            {
                "DEBUG": "0",
                "SECRET_KEY": secrets.token_urlsafe(50),
                "ALLOWED_HOSTS": "127.0.0.1",
                "FORMULARY_SITE_URL": "https://formulary.hospital.example",
                # Plain HTTP on loopback: no redirect to HTTPS.
                "SECURE_SSL_REDIRECT": "0",
                "SECURE_COOKIES": "0",
                "CONN_MAX_AGE": "0",
                "PYTHONPATH": str(ROOT),
                **env,
            }
        )
        self.output = tempfile.NamedTemporaryFile(mode="w+", prefix="gunicorn-", suffix=".log", delete=False)

    def start(self):
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.process = subprocess.Popen(
            [
                str(gunicorn),
                "formulary.wsgi",
                "--workers",
                str(self.workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--access-logfile",
                "-",
                "--access-logformat",
                "%(p)s %(s)s",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.output,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited during start-up:\n{self.read_output()}")
            # Every worker up, so the first requests can already be spread over them.
            if self.read_output().count("Booting worker") >= self.workers:
                try:
                    with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                        return
                except OSError:
                    pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not start:\n{self.read_output()}")

    def read_output(self):
        self.output.flush()
        return Path(self.output.name).read_text(errors="replace")

    def stop(self, drop_database=True):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        if drop_database:
            super().stop()
        self.output.close()
        os.unlink(self.output.name)
