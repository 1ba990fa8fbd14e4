"""The deployment in deploy/ started as an operator would, on loopback and without root.

- `unit_command(port)`: the gunicorn command line of deploy/systemd/formulary@.service for one
  instance, with the virtualenv of this checkout;
- `unit_environment(**overrides)`: deploy/formulary.env.example read as systemd reads it;
- `AppServer`: one gunicorn server started with those, its access log kept for the test;
- `render_nginx` / `Nginx`: deploy/nginx/formulary.conf with test ports and static root,
  wrapped in a main configuration whose pid, logs and temporary files are in a temp dir,
  run in the foreground (`daemon off`).

Used by tests/test_deploy.py and bench/run.py (the two-server load).
"""

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
NGINX_SITE = DEPLOY / "nginx" / "formulary.conf"
UNIT = DEPLOY / "systemd" / "formulary@.service"
WORKER_UNIT = DEPLOY / "systemd" / "formulary-worker@.service"
ENV_EXAMPLE = DEPLOY / "formulary.env.example"
NGINX = "/usr/sbin/nginx"
# Where the unit expects the checkout; replaced by this checkout in tests.
INSTALL_DIR = "/srv/formulary"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, process, timeout=30, describe=lambda: ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"exited during start-up:\n{describe()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"did not start listening on {port}:\n{describe()}")


def unit_command(port, runtime_directory=None):
    """ExecStart of the template unit for instance `port`, unescaped as systemd does; the
    unit's RuntimeDirectory (/run/formulary-<port>) replaced by `runtime_directory` if given."""
    line = next(x for x in UNIT.read_text().splitlines() if x.startswith("ExecStart="))
    command = line.split("=", 1)[1]
    if runtime_directory is not None:
        command = command.replace("/run/formulary-%i", str(runtime_directory))
    command = command.replace("%i", str(port)).replace("%%", "%")
    args = shlex.split(command)
    args[0] = str(Path(sys.executable).with_name("gunicorn")) if args[0].startswith(INSTALL_DIR) else args[0]
    return args


def worker_command(instance=1):
    """ExecStart of the worker's template unit, with this checkout's Python."""
    line = next(x for x in WORKER_UNIT.read_text().splitlines() if x.startswith("ExecStart="))
    args = shlex.split(line.split("=", 1)[1].replace("%i", str(instance)))
    args[0] = sys.executable if args[0].startswith(INSTALL_DIR) else args[0]
    return args


class Worker:
    """The job queue's worker as formulary-worker@<n>.service starts it."""

    def __init__(self, environment, instance=1):
        self.command = worker_command(instance)
        self.env = {**os.environ, **environment, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
        self.env.pop("DJANGO_SETTINGS_MODULE", None)
        self.log = tempfile.NamedTemporaryFile(mode="w+", prefix="worker-", suffix=".log", delete=False)
        self.process = None

    def start(self):
        self.process = subprocess.Popen(self.command, cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        return self

    def output(self):
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        os.unlink(self.log.name)


def read_environment_file(text):
    """KEY=VALUE lines as systemd's EnvironmentFile= reads them: blank lines and lines starting
    with # or ; skipped, whitespace around key and value dropped, one pair of enclosing double or
    single quotes removed (inside double quotes a backslash escapes the next character)."""
    values = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        key, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == "'":
            value = value[1:-1]
        elif len(value) >= 2 and value[0] == value[-1] == '"':
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        values[key.strip()] = value
    return values


def unit_environment(**overrides):
    """The example environment file read as systemd reads it, then `overrides`."""
    return read_environment_file(ENV_EXAMPLE.read_text()) | overrides


class AppServer:
    """One app server as formulary@<port>.service starts it (gunicorn on 127.0.0.1:<port>)."""

    def __init__(self, environment, port=None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, **environment, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
        for name in ("DJANGO_SETTINGS_MODULE",):
            if name not in environment:
                self.env.pop(name, None)
        self.log = tempfile.NamedTemporaryFile(mode="w+", prefix="gunicorn-", suffix=".log", delete=False)
        # What systemd's RuntimeDirectory= gives the unit: a directory of this server's own.
        self.runtime_directory = Path(tempfile.mkdtemp(prefix=f"formulary-{self.port}-"))
        self.control_socket = self.runtime_directory / "gunicorn.ctl"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            unit_command(self.port, self.runtime_directory),
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        wait_for_port(self.port, self.process, describe=self.output)
        return self

    def output(self):
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")

    def access_lines(self):
        """Access log lines: "<client> <method> <path> <status> <bytes> <seconds>s pid=<pid>"."""
        return [x for x in self.output().splitlines() if re.match(r"^\S+ [A-Z]+ /\S* \d{3} ", x)]

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        os.unlink(self.log.name)
        shutil.rmtree(self.runtime_directory, ignore_errors=True)


# nginx -------------------------------------------------------------------------------------

MAIN_CONF = """\
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 512; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    # As Debian's /etc/nginx/nginx.conf: HTML compressed for clients that accept gzip.
    gzip on;
    access_log {dir}/access.log;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    include {dir}/formulary.conf;
}}
"""


def _replace_once(pattern, replacement, text, flags=re.MULTILINE):
    new, count = re.subn(pattern, replacement, text, flags=flags)
    if count != 1:
        raise AssertionError(f"deploy/nginx/formulary.conf: expected one {pattern!r}, found {count}")
    return new


def render_nginx(directory, *, listen_port, upstream_ports, static_root, opt_in_cache=False):
    """Write the site configuration with test values, and a main configuration including it,
    into `directory`; return the main configuration's path. Fails if the shipped file no
    longer has the lines an operator is told to edit."""
    directory = Path(directory)
    site = NGINX_SITE.read_text()
    upstream = re.findall(r"^\s*server 127\.0\.0\.1:\d+[^;\n]*;$", site, flags=re.MULTILINE)
    if len(upstream) < 2:
        raise AssertionError("deploy/nginx/formulary.conf: expected two upstream servers")
    options = upstream[0].split(";")[0].split(None, 2)[2:]  # max_fails=… fail_timeout=…
    lines = "\n".join(f"    server 127.0.0.1:{port} {' '.join(options)};".rstrip() for port in upstream_ports)
    site = site.replace(upstream[0], lines, 1)
    for extra in upstream[1:]:
        site = site.replace(extra + "\n", "", 1)
    site = _replace_once(r"^(\s*)listen 80;$", rf"\1listen 127.0.0.1:{listen_port};", site)
    site = _replace_once(r"^\s*listen \[::\]:80;\n", "", site)
    site = _replace_once(r"alias /srv/formulary/staticfiles/;", f"alias {Path(static_root)}/;", site)
    if opt_in_cache:
        cache_dir = directory / "cache"
        site = _replace_once(r"^# (proxy_cache_path) /var/cache/nginx/formulary ", rf"\1 {cache_dir} ", site)
        site, count = re.subn(
            r"^(\s*)# ((proxy_cache\w*|proxy_no_cache|add_header X-Proxy-Cache)\b)", r"\1\2", site, flags=re.MULTILINE
        )
        if count < 5:
            raise AssertionError("deploy/nginx/formulary.conf: the opt-in page cache block is missing")
    (directory / "formulary.conf").write_text(site)
    main = directory / "nginx.conf"
    main.write_text(MAIN_CONF.format(dir=directory))
    return main


def nginx_test(config):
    """`nginx -t` on a rendered configuration: (ok, output)."""
    directory = config.parent
    result = subprocess.run(
        [NGINX, "-t", "-p", str(directory), "-e", str(directory / "error.log"), "-c", str(config)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    return result.returncode == 0, result.stdout + result.stderr


class Nginx:
    """nginx in the foreground on 127.0.0.1, in front of `upstream_ports`."""

    def __init__(self, *, upstream_ports, static_root, opt_in_cache=False):
        # World-readable: when run as root, nginx's workers run as nobody.
        self.dir = Path(tempfile.mkdtemp(prefix="nginx-"))
        self.dir.chmod(0o755)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config = render_nginx(
            self.dir,
            listen_port=self.port,
            upstream_ports=upstream_ports,
            static_root=static_root,
            opt_in_cache=opt_in_cache,
        )
        self.process = None

    def start(self):
        ok, output = nginx_test(self.config)
        if not ok:
            raise RuntimeError(f"nginx -t refused the configuration:\n{output}")
        self.process = subprocess.Popen(
            [
                NGINX,
                "-p",
                str(self.dir),
                "-e",
                str(self.dir / "error.log"),
                "-c",
                str(self.config),
                "-g",
                "daemon off;",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, self.process, describe=self.errors)
        return self

    def statuses(self):
        """The status of every request nginx logged (combined log format)."""
        path = self.dir / "access.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return [int(m) for m in re.findall(r'" (\d{3}) ', text)]

    def errors(self):
        path = self.dir / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # graceful: finish open requests
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
