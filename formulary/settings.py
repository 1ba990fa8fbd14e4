"""Settings for the formulary, read from the environment.

One module serves development, tests and production: production differs only by
environment variables (DEBUG=0, SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL), so the
configuration that is tested is the one that is deployed.
"""

import datetime
import hashlib
import os
import re
from email.utils import getaddresses
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=True)
# The fallback key only exists so a fresh checkout starts; production must set its own.
SECRET_KEY = env.str(
    "SECRET_KEY",
    default="dev-only-insecure-key-change-me" if DEBUG else environ.Env.NOTSET,
)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])

INSTALLED_APPS = [
    # The admin with a password-change form that django-axes counts (formulary/admin_site.py).
    "formulary.apps.FormularyAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "reversion",
    # The entry's one edit screen: products with their strengths nested in the entry.
    "nested_admin",
    "csp",
    "axes",
    "monographs",
    # Directory (LDAP / Active Directory) sign-in: staff profiles, the backend, rechecks.
    "directory",
    # Benchmark data generator: a Django app only so `manage.py generate_formulary` is found,
    # as documented, with these settings and bench/settings.py alike. It has no models, URLs or
    # templates, and keeps benchmark code out of `monographs` (which must not depend on bench/).
    "bench.synthetic",
    # The job queue: jobs in PostgreSQL tables, deferred in the caller's transaction,
    # run by `manage.py procrastinate worker`; its admin shows every job's state and error.
    "procrastinate.contrib.django",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "formulary.middleware.RejectNullCharactersMiddleware",
    "formulary.middleware.RequestUriLengthMiddleware",
    "formulary.middleware.AdminQueryChecksMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # After the language is taken from the address; a shared-cache hit skips everything below.
    # monographs.public_cache.PublicPageCacheMiddleware, with a database error in it a 503.
    "formulary.middleware.DatabaseCheckedPageCacheMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Ends a directory user's session when the directory no longer vouches for them (a leaver).
    "directory.middleware.DirectoryRecheckMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "formulary.middleware.DatabaseUnavailableMiddleware",
    "formulary.middleware.EditorMarkerMiddleware",
    # Last, so it sees failed logins from every view.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "formulary.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "formulary.wsgi.application"

# PostgreSQL only, everywhere (postgres://user@host:port/name): the search, the job queue
# and the database rules are PostgreSQL's. There is no default: a silent fallback would run
# a development install against some other database. `./run` sets it to its embedded
# server (formulary/devdb.py); `./run db` prints that address for other commands.
if not env.str("DATABASE_URL", default=""):
    raise ImproperlyConfigured(
        "Set DATABASE_URL to the formulary's PostgreSQL database, e.g. postgres://formulary@127.0.0.1:5432/formulary. "
        'In development `./run` sets it; for other commands use: export DATABASE_URL="$(./run db)"'
    )
DATABASES = {"default": env.db_url("DATABASE_URL")}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured(f"DATABASE_URL must be a postgres:// address; got {env.str('DATABASE_URL')!r}.")
# Reuse connections, but check them first so a database restart is survived.
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # Counts failed logins and locks out after AXES_FAILURE_LIMIT of them.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# --- Directory sign-in (LDAP / Active Directory; docs/operations.md) ---
# Off while LDAP_SERVER_URI is empty: no directory backend, nothing asks a directory.


def _semicolon_list(name):
    # Distinguished names hold commas, so lists of them are separated by semicolons.
    return [part.strip() for part in env.str(name, default="").split(";") if part.strip()]


# One or more servers, tried in order: ldaps://dc1.hospital.example,ldaps://dc2.hospital.example
LDAP_SERVER_URI = [uri for uri in env.list("LDAP_SERVER_URI", default=[]) if uri.strip()]
for _uri in LDAP_SERVER_URI:
    if urlsplit(_uri).scheme not in ("ldap", "ldaps"):
        raise ImproperlyConfigured(f"LDAP_SERVER_URI must list ldap:// or ldaps:// addresses; got {_uri!r}.")
# StartTLS on an ldap:// address (ldaps:// is TLS from the start); the certificate is always verified.
LDAP_START_TLS = env.bool("LDAP_START_TLS", default=False)
LDAP_CA_FILE = env.str("LDAP_CA_FILE", default="") or None
# Search then bind: the service account finds the user's entry, then the password is tried on it.
LDAP_BIND_DN = env.str("LDAP_BIND_DN", default="")
LDAP_BIND_PASSWORD = env.str("LDAP_BIND_PASSWORD", default="")
# Or direct bind: the user binds as this template ({username}@hospital.example, uid={username},ou=…).
LDAP_USER_DN_TEMPLATE = env.str("LDAP_USER_DN_TEMPLATE", default="")
LDAP_USER_SEARCH_BASE = env.str("LDAP_USER_SEARCH_BASE", default="")
LDAP_USER_FILTER = env.str("LDAP_USER_FILTER", default="(uid={username})")
# What an active account matches besides not having Active Directory's disabled bit (always checked
# when userAccountControl is present), e.g. (memberOf=cn=active-staff,ou=groups,dc=hospital,dc=example).
LDAP_ACTIVE_FILTER = env.str("LDAP_ACTIVE_FILTER", default="")
# How a group names its members; Active Directory with nested groups:
# (member:1.2.840.113556.1.4.1941:={user_dn})
LDAP_GROUP_MEMBER_FILTER = env.str("LDAP_GROUP_MEMBER_FILTER", default="(member={user_dn})")
# Directory groups (DNs, semicolon-separated) whose members get each formulary role, at every sign-in.
LDAP_ROLE_GROUPS = {
    "Editors": _semicolon_list("LDAP_EDITORS_GROUPS"),
    "Reviewers": _semicolon_list("LDAP_REVIEWERS_GROUPS"),
    "Readers": _semicolon_list("LDAP_READERS_GROUPS"),
}
LDAP_USERNAME_ATTRIBUTE = env.str("LDAP_USERNAME_ATTRIBUTE", default="uid")
LDAP_DISPLAY_NAME_ATTRIBUTE = env.str("LDAP_DISPLAY_NAME_ATTRIBUTE", default="displayName")
LDAP_STAFF_NUMBER_ATTRIBUTE = env.str("LDAP_STAFF_NUMBER_ATTRIBUTE", default="employeeNumber")
# Whole seconds to wait for a server to connect and to answer before it counts as unavailable.
LDAP_TIMEOUT = env.int("LDAP_TIMEOUT", default=5)
if LDAP_TIMEOUT < 1:
    raise ImproperlyConfigured(f"LDAP_TIMEOUT must be a whole number of seconds, 1 or more; got {LDAP_TIMEOUT}.")
# A directory user's session is rechecked at least this often (minutes, 1 to 15).
LDAP_RECHECK_MINUTES = env.int("LDAP_RECHECK_MINUTES", default=15)
if not 1 <= LDAP_RECHECK_MINUTES <= 15:
    raise ImproperlyConfigured(f"LDAP_RECHECK_MINUTES must be 1 to 15; got {LDAP_RECHECK_MINUTES}.")
if LDAP_SERVER_URI:
    if not (LDAP_USER_SEARCH_BASE and "{username}" in LDAP_USER_FILTER):
        raise ImproperlyConfigured("LDAP_USER_SEARCH_BASE and an LDAP_USER_FILTER with {username} are required.")
    if not (LDAP_BIND_DN or LDAP_USER_DN_TEMPLATE):
        raise ImproperlyConfigured("Set LDAP_BIND_DN (search then bind) or LDAP_USER_DN_TEMPLATE (direct bind).")
    # After the local accounts, so a break-glass administrator never depends on the directory.
    AUTHENTICATION_BACKENDS.append("directory.backends.DirectoryBackend")
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Behind a reverse proxy every login would otherwise come from the proxy, and anyone
# could lock out any username; see FORMULARY_TRUSTED_PROXIES below.
AXES_CLIENT_IP_CALLABLE = "formulary.client_ip.client_ip"
# Wrong guesses on the password-change form are counted too; their fields must not be
# stored in the attempt log in clear.
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "old_password", "new_password1", "new_password2"]

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", "English"),
    ("zh-hant", "繁體中文"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Hong_Kong"
USE_I18N = True
USE_TZ = True
# Hong Kong dates ("2 Dec 2026 09:00" / "2026年12月2日 09:00") and ISO typed input, in both languages.
FORMAT_MODULE_PATH = ["formulary.formats"]

STATIC_URL = "static/"
# Where collectstatic writes; a reverse proxy may serve the same directory (deploy/nginx/).
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage",
    },
}

LOGIN_URL = "admin:login"
# Where a login goes when its `next` is missing or unsafe (Django's default,
# /accounts/profile/, does not exist here).
LOGIN_REDIRECT_URL = "admin:index"

# Transport and browser protections. All on when DEBUG is off; each can be
# switched by environment for a deployment behind a TLS-terminating proxy.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
if env.bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 60 * 60)  # one shift
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Mail. EMAIL_URL (smtp://user:password@host:587, +tls / +ssl as django-environ reads
# it) or the separate EMAIL_HOST… variables; either one means SMTP unless EMAIL_BACKEND says
# otherwise. With neither, mail goes to the console, which `check --deploy` flags in production.
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
    EMAIL_PORT = env.int("EMAIL_PORT", default=25)
    EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
    EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
    EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
    EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
_smtp_configured = bool(env.str("EMAIL_URL", default="") or env.str("EMAIL_HOST", default=""))
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.smtp.EmailBackend"
    if _smtp_configured
    else "django.core.mail.backends.console.EmailBackend",
)
# A mail server that hangs must not hold a worker forever.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="formulary@localhost")

# Review workflow: days until a published monograph is due for review, and
# whether one person may approve their own edits (single-person test installs only).
FORMULARY_REVIEW_INTERVAL_DAYS = env.int("FORMULARY_REVIEW_INTERVAL_DAYS", default=730)
FORMULARY_ALLOW_SELF_APPROVAL = env.bool("FORMULARY_ALLOW_SELF_APPROVAL", default=False)
# The quarterly digest of changes (manage.py send_digest): comma-separated addresses, and
# the staff groups whose active members (with an address) also receive it.
FORMULARY_DIGEST_RECIPIENTS = env.list("FORMULARY_DIGEST_RECIPIENTS", default=[])
FORMULARY_DIGEST_GROUPS = env.list("FORMULARY_DIGEST_GROUPS", default=["Reviewers"])
# Who gets the recall notice when an entry is withdrawn, besides the entry's authors
# (comma-separated addresses, e.g. the dispensary and ward pharmacists' lists).
FORMULARY_RECALL_RECIPIENTS = env.list("FORMULARY_RECALL_RECIPIENTS", default=[])
# Absolute address of the site, for links in notification emails. Production must
# set it: a default would send reviewers links to a development address.
FORMULARY_SITE_URL = env.str("FORMULARY_SITE_URL", default="http://127.0.0.1:8000" if DEBUG else "").rstrip("/")
if not FORMULARY_SITE_URL:
    raise ImproperlyConfigured(
        "Set FORMULARY_SITE_URL to the formulary's public address (e.g. https://formulary.hospital.example) "
        "when DEBUG is off: notification emails link to it."
    )
if urlsplit(FORMULARY_SITE_URL).scheme not in ("http", "https") or not urlsplit(FORMULARY_SITE_URL).netloc:
    raise ImproperlyConfigured(
        f"FORMULARY_SITE_URL must be an absolute http(s) address such as https://formulary.hospital.example, "
        f"not {FORMULARY_SITE_URL!r}."
    )
# Origins (scheme://host[:port]) whose form posts pass Django's CSRF origin check besides the
# request's own host: the site's public address by default, so a login through a proxy that
# rewrites Host, or on another port, still works. Comma-separated to add more.
CSRF_TRUSTED_ORIGINS = env.list(
    "CSRF_TRUSTED_ORIGINS",
    default=["{0.scheme}://{0.netloc}".format(urlsplit(FORMULARY_SITE_URL))],
)
for _origin in CSRF_TRUSTED_ORIGINS:
    if urlsplit(_origin).scheme not in ("http", "https") or not urlsplit(_origin).netloc:
        raise ImproperlyConfigured(f"CSRF_TRUSTED_ORIGINS holds scheme://host[:port] origins; got {_origin!r}.")

# Content checks before submit (monographs/checks.py, docs/workflow.md): the level of
# each check. "blocking" refuses submit, "warning" is shown to the editor and the
# reviewer, "off" skips it. Only content that is broken on the public page in any
# monograph blocks by default (a heading with nothing under it); the rest may be
# intended or pending (a stub without a storage section yet, a strength awaiting
# registration), so a warning for the reviewer to weigh. Override per check with
# FORMULARY_CONTENT_CHECKS="empty_list=blocking,repeated_paragraph=off".
_CONTENT_CHECK_DEFAULTS = {
    "empty_section": "blocking",  # a section whose body shows no text
    "empty_list": "warning",  # "… indicated for:" with no list items after it
    "required_section": "warning",  # a kind of FORMULARY_REQUIRED_SECTIONS is missing
    "unregistered_strength": "warning",  # a registered product has a strength without a number
    "repeated_paragraph": "warning",  # the same paragraph twice in the monograph
    "unrendered_markup": "warning",  # a link, HTML, a heading or unbalanced ** shown as typed
    "boxed_warning": "warning",  # a safety flag without boxed warning text
    "chinese_translation": "warning",  # Chinese text made from older English, or missing beside other Chinese
    "chinese_terms": "warning",  # a Chinese term the glossary rejects (monographs/glossary.py), e.g. 亞胺 for an imide
}


def _content_check_levels(name, defaults):
    overrides = {key.strip(): value.strip().lower() for key, value in env.dict(name, default={}).items() if key.strip()}
    if set(overrides) - set(defaults) or set(overrides.values()) - {"blocking", "warning", "off"}:
        raise ImproperlyConfigured(
            f"{name} reads like empty_list=blocking,repeated_paragraph=off, with checks {', '.join(defaults)} "
            f"and levels blocking, warning or off; got {overrides!r}."
        )
    return defaults | overrides


FORMULARY_CONTENT_CHECKS = _content_check_levels("FORMULARY_CONTENT_CHECKS", _CONTENT_CHECK_DEFAULTS)
# Section kinds every monograph must have (check "required_section"), comma-separated;
# empty for none. Checked against the section kinds when the checks run.
FORMULARY_REQUIRED_SECTIONS = [
    kind.strip()
    for kind in env.list("FORMULARY_REQUIRED_SECTIONS", default=["contraindications", "side_effects", "storage"])
    if kind.strip()
]

# A hospital may move the admin off the well-known path.
ADMIN_URL = env.str("ADMIN_URL", default="admin/")

# --- Interoperability: read-only API, OpenAPI description, FHIR ---
# drf_spectacular_sidecar: Swagger UI's files as static files of the app, so the API page
# (/api/v1/docs/) needs no internet and passes the strict CSP above (script-src 'self').
INSTALLED_APPS += ["rest_framework", "drf_spectacular", "drf_spectacular_sidecar"]

REST_FRAMEWORK = {
    # The API is public and read-only: no sessions, so no CSRF and no login.
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": ["monographs.throttling.ClientRateThrottle"],
    "EXCEPTION_HANDLER": "monographs.api.errors.exception_handler",
}


def _rate(name, default):
    # DRF would only trip over a malformed rate on the first request it limits (a 500).
    rate = env.str(name, default=default).strip()
    if not re.fullmatch(r"(|off|none|\d+/(s|m|h|d)[a-z]*)", rate, flags=re.IGNORECASE):
        raise ImproperlyConfigured(
            f"{name} must read like 600/minute (second, minute, hour or day) or off; got {rate!r}."
        )
    return rate


# Requests per client address, e.g. "600/minute"; empty or "off" turns throttling off.
# Read on every request, so tests and deployments can change it.
FORMULARY_API_THROTTLE_RATE = _rate("FORMULARY_API_THROTTLE_RATE", "1200/minute")
# Longest address (path and query) the app answers; a longer one is a 414 in the format of the
# address (FHIR, REST API, text). Keep it under gunicorn's --limit-request-line (8190) and nginx's
# large_client_header_buffers (8k), which answer longer ones themselves (deploy/).
FORMULARY_MAX_REQUEST_URI = env.int("FORMULARY_MAX_REQUEST_URI", default=8000)
# Namespace of the code systems and identifier systems in FHIR output. Set it to
# an address the hospital controls; it must be the same on every installation.
FORMULARY_FHIR_SYSTEM_BASE = env.str("FORMULARY_FHIR_SYSTEM_BASE", default="https://formulary.invalid/fhir")

SPECTACULAR_SETTINGS = {
    "TITLE": "Hospital Formulary API",
    "DESCRIPTION": "Read-only access to the published (approved) editions of the formulary.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        name: f"monographs.vocabulary.{choices}"
        for name, choices in [
            ("UnitEnum", "Unit"),
            ("DosageFormEnum", "DosageForm"),
            ("RouteEnum", "Route"),
            ("SectionKindEnum", "SectionKind"),
            ("ProductKindEnum", "ProductKind"),
            ("LegalClassificationEnum", "LegalClass"),
            ("SaleRequirementEnum", "SaleRequirement"),
            ("FormularyStatusEnum", "FormularyStatus"),
        ]
    }
    # A Chinese text's status, on sections and the boxed warning.
    | {"TranslationStatusEnum": "monographs.models.TranslationStatus"},
}


# --- Client addresses, shared rate limits, error logging ---


def _env_count(name, default):
    raw = env.str(name, default=str(default)).strip()
    if not (raw.isascii() and raw.isdigit()):  # "²".isdigit() is true, and int("²") fails
        raise ImproperlyConfigured(f"{name} must be a whole number, 0 or more; got {raw!r}.")
    return int(raw)


# How many reverse proxies in front of the app append to X-Forwarded-For (nginx alone: 1).
# Only their entries are believed; with 0 the header is ignored. One function,
# formulary.client_ip.client_ip, applies it for the throttles, django-axes and the log.
FORMULARY_TRUSTED_PROXIES = _env_count("FORMULARY_TRUSTED_PROXIES", 0)

# Requests per client address to the public HTML search; empty or "off" turns it off.
FORMULARY_SEARCH_THROTTLE_RATE = _rate("FORMULARY_SEARCH_THROTTLE_RATE", "300/minute")

# With REDIS_URL (redis://host:6379/0) every worker counts rate limits in Redis, so a
# client gets the configured rate, not that rate once per gunicorn worker. Without
# it each process counts in its own memory, which is enough for `./run` and tests.
REDIS_URL = env.str("REDIS_URL", default="").strip()
if REDIS_URL and urlsplit(REDIS_URL).scheme not in ("redis", "rediss", "unix"):
    raise ImproperlyConfigured(f"REDIS_URL must start with redis://, rediss:// or unix://; got {REDIS_URL!r}.")
# Whole public pages (monographs/public_cache.py) may live on their own Redis: the deploy runs
# it with maxmemory + allkeys-lru, so it can never fill up, while the rate-limit counters stay
# on REDIS_URL with noeviction (an LRU would also drop counters). Default: REDIS_URL.
PAGE_CACHE_REDIS_URL = env.str("PAGE_CACHE_REDIS_URL", default="").strip() or REDIS_URL
if PAGE_CACHE_REDIS_URL and urlsplit(PAGE_CACHE_REDIS_URL).scheme not in ("redis", "rediss", "unix"):
    raise ImproperlyConfigured(
        f"PAGE_CACHE_REDIS_URL must start with redis://, rediss:// or unix://; got {PAGE_CACHE_REDIS_URL!r}."
    )


def _install_prefix():
    # Two installs sharing one Redis (a restored copy beside the live site, a test install)
    # must never read each other's keys: by default the prefix names this install's database.
    database = DATABASES["default"]
    where = f"{database.get('HOST', '')}:{database.get('PORT', '')}/{database.get('NAME', '')}"
    return "formulary-" + hashlib.sha256(where.encode()).hexdigest()[:10]


FORMULARY_CACHE_PREFIX = env.str("FORMULARY_CACHE_PREFIX", default="").strip() or _install_prefix()
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # Counters only: pages never wait for Redis, and a Redis outage only pauses the limits.
    "throttle": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": FORMULARY_CACHE_PREFIX,
        # A Redis host that stops answering must not hold a request for long.
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
    if REDIS_URL
    else {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "throttle",
        "OPTIONS": {"MAX_ENTRIES": 20000},
    },
    # Whole public pages, shared by every worker and server. Off without a Redis: a cache per
    # process could not be emptied by a publication made in another process. Keyed by the
    # publication stamp read from PostgreSQL, so Redis holds only copies; an outage only
    # bypasses it.
    "public": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": PAGE_CACHE_REDIS_URL,
        "KEY_PREFIX": FORMULARY_CACHE_PREFIX,
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
    if PAGE_CACHE_REDIS_URL
    else {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
}
# The Host headers (name:port as the browser sends it) whose pages the shared cache keeps;
# any other spelling of the address is served but not kept. Default: FORMULARY_SITE_URL's.
FORMULARY_PUBLIC_CACHE_HOSTS = env.list(
    "FORMULARY_PUBLIC_CACHE_HOSTS", default=[urlsplit(FORMULARY_SITE_URL).netloc] if FORMULARY_SITE_URL else []
)

# HTTP caching of public pages (docs/public-pages.md). 0: shared caches and browsers revalidate
# every request (Cache-Control: public, no-cache), so a withdrawal is seen at once everywhere.
# N > 0: they may serve a page for N seconds without asking, so a withdrawn or changed page can
# still be shown up to N seconds after the change.
FORMULARY_PUBLIC_MAX_AGE = _env_count("FORMULARY_PUBLIC_MAX_AGE", 0)
# How long Redis keeps a whole page (seconds). A publication makes older pages unreachable at
# once (their key holds the publication stamp); this only bounds the memory they take.
FORMULARY_PUBLIC_CACHE_SECONDS = _env_count("FORMULARY_PUBLIC_CACHE_SECONDS", 3600)
# A response larger than this (bytes) is served but not kept in the shared page cache.
FORMULARY_PUBLIC_CACHE_MAX_BYTES = _env_count("FORMULARY_PUBLIC_CACHE_MAX_BYTES", 512 * 1024)
# Entries per page of the public lists (A–Z, a drug class, search results).
FORMULARY_PUBLIC_PAGE_SIZE = _env_count("FORMULARY_PUBLIC_PAGE_SIZE", 50)
# Days of changes in the public changes feed (today included, Hong Kong time).
FORMULARY_CHANGES_FEED_DAYS = _env_count("FORMULARY_CHANGES_FEED_DAYS", 90)
# The whole-formulary booklet is laid out in parts of this many entries, in this many worker
# processes at once (each holds a part's layout in memory).
FORMULARY_BOOKLET_PART_SIZE = _env_count("FORMULARY_BOOKLET_PART_SIZE", 25)
FORMULARY_BOOKLET_WORKERS = _env_count("FORMULARY_BOOKLET_WORKERS", min(2, os.cpu_count() or 1))


def _admins(text):
    admins = []
    for name, address in getaddresses([text]) if text.strip() else []:
        if "@" not in address:
            raise ImproperlyConfigured(f"ADMINS must read 'Name <address@host>, …'; cannot use {address or text!r}.")
        admins.append((name or address, address))
    return admins


# People mailed a traceback of every server error (needs a working EMAIL_BACKEND).
ADMINS = _admins(env.str("ADMINS", default=""))
SERVER_EMAIL = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)

LOG_LEVEL = env.str("LOG_LEVEL", default="WARNING").upper()
if LOG_LEVEL not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
    raise ImproperlyConfigured(f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL; got {LOG_LEVEL!r}.")

# Django alone logs a production server error nowhere but by mail to ADMINS (none by
# default), so 500s left no trace. Here every record from LOG_LEVEL up, a server
# error with its traceback, goes to stderr, which gunicorn and systemd keep, with
# the client address as the throttles and axes see it; errors are also mailed to
# ADMINS in production.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
        "client_ip": {"()": "formulary.client_ip.ClientIPFilter"},
    },
    "formatters": {
        # Local time with its UTC offset, so lines read the same beside gunicorn's (UTC) ones.
        "plain": {
            "format": "%(asctime)s %(levelname)s %(name)s [client %(client_ip)s] %(message)s",
            "datefmt": "%Y-%m-%d %H:%M:%S%z",
        },
    },
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
            "level": LOG_LEVEL,
            "filters": ["client_ip"],
            "formatter": "plain",
        },
        "mail_admins": {
            "class": "django.utils.log.AdminEmailHandler",
            "level": "ERROR",
            "filters": ["require_debug_false"],
        },
    },
    "root": {"handlers": ["stderr", "mail_admins"], "level": LOG_LEVEL},
    "loggers": {
        # Django's own handlers (console while DEBUG is on, mail_admins) would print or mail
        # each record a second time; everything goes through root instead.
        "django": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
    },
}
