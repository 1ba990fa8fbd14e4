"""The formulary's settings (from the environment, as deployed) with `server_error_urls` as the URLconf."""

from formulary.settings import *  # noqa: F403

ROOT_URLCONF = "tests.server_error_urls"
