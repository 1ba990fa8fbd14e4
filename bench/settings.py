"""Settings of the benchmark server: the production settings (from the environment, as
`bench/run.py` sets it: DEBUG=0, a SECRET_KEY, ALLOWED_HOSTS=127.0.0.1, PostgreSQL) plus a
bare baseline view, so every figure is measured against plain Django in the same run."""

import os

from formulary.settings import *  # noqa: F403
from formulary.settings import BASE_DIR

ROOT_URLCONF = "bench.urls"
# collectstatic writes here (git-ignored), so the manifest storage used with DEBUG off works;
# BENCH_STATIC_ROOT moves it out of the checkout (the test of the script uses a temporary folder).
STATIC_ROOT = os.environ.get("BENCH_STATIC_ROOT") or BASE_DIR / "bench" / "out" / "static"
