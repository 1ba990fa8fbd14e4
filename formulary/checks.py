"""System checks of the deployment (`manage.py check --deploy`)."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Tags, Warning, register

CONSOLE_BACKENDS = {
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
}


@register(Tags.security, deploy=True)
def mail_goes_somewhere(app_configs, **kwargs):
    """Review mails, recall notices and the digest would be printed to a log nobody reads."""
    if settings.EMAIL_BACKEND in CONSOLE_BACKENDS:
        return [
            Warning(
                f"EMAIL_BACKEND is {settings.EMAIL_BACKEND}: no review mail, recall notice or digest reaches anyone.",
                hint="Set EMAIL_URL (smtp+tls://user:password@host:587) or EMAIL_HOST, EMAIL_PORT, "
                "EMAIL_HOST_USER, EMAIL_HOST_PASSWORD and EMAIL_USE_TLS (README, Configuration).",
                id="formulary.W001",
            )
        ]
    return []


# The settings' default namespace: fine for development, wrong in any record another system keeps.
PLACEHOLDER_FHIR_HOST_SUFFIX = ".invalid"


@register(Tags.security, deploy=True)
def fhir_system_base_is_the_hospitals(app_configs, **kwargs):
    """Code and identifier systems in FHIR output are stored by whoever reads them; a placeholder
    namespace written today cannot be changed later without breaking their records."""
    host = urlsplit(settings.FORMULARY_FHIR_SYSTEM_BASE).hostname or ""
    if host == "invalid" or host.endswith(PLACEHOLDER_FHIR_HOST_SUFFIX):
        return [
            Warning(
                f"FORMULARY_FHIR_SYSTEM_BASE is the placeholder {settings.FORMULARY_FHIR_SYSTEM_BASE}.",
                hint="Set it to an address the hospital controls, the same on every installation "
                "(e.g. https://formulary.hospital.org.hk/fhir); docs/api.md.",
                id="formulary.W002",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def site_url_is_https(app_configs, **kwargs):
    """Review mails carry links to the site; over plain HTTP they send staff to a login page
    whose password and session cookie cross the network in clear."""
    if urlsplit(settings.FORMULARY_SITE_URL).scheme != "https":
        return [
            Warning(
                f"FORMULARY_SITE_URL is {settings.FORMULARY_SITE_URL}, not an https:// address.",
                hint="Serve the formulary through TLS (docs/operations.md) and set FORMULARY_SITE_URL to its "
                "https:// address.",
                id="formulary.W003",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def redis_is_configured(app_configs, **kwargs):
    """Without Redis each gunicorn worker counts rate limits on its own (a client gets the limit
    once per worker and server) and no public page is cached."""
    if not settings.REDIS_URL:
        return [
            Warning(
                "REDIS_URL is not set: rate limits are counted per process and public pages are not cached.",
                hint="Set REDIS_URL (redis://127.0.0.1:6379/0) and PAGE_CACHE_REDIS_URL (deploy/redis/, "
                "docs/operations.md).",
                id="formulary.W004",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def directory_passwords_encrypted(app_configs, **kwargs):
    """Directory passwords must not cross the network in clear (directory sign-in)."""
    clear = [uri for uri in settings.LDAP_SERVER_URI if uri.lower().startswith("ldap://")]
    if clear and not settings.LDAP_START_TLS:
        return [
            Warning(
                f"LDAP_SERVER_URI {', '.join(clear)} without LDAP_START_TLS: staff passwords reach the "
                "directory unencrypted.",
                hint="Use ldaps:// addresses or set LDAP_START_TLS=1 (docs/operations.md).",
                id="formulary.W005",
            )
        ]
    return []
