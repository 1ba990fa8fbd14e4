"""System checks of the deployment (`manage.py check --deploy`)."""

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


@register(Tags.security, deploy=True)
def directory_passwords_encrypted(app_configs, **kwargs):
    """Directory passwords must not cross the network in clear (directory sign-in)."""
    clear = [uri for uri in getattr(settings, "LDAP_SERVER_URI", []) if uri.lower().startswith("ldap://")]
    if clear and not settings.LDAP_START_TLS:
        return [
            Warning(
                f"LDAP_SERVER_URI {', '.join(clear)} without LDAP_START_TLS: staff passwords reach the "
                "directory unencrypted.",
                hint="Use ldaps:// addresses or set LDAP_START_TLS=1 (docs/operations.md).",
                id="formulary.W002",
            )
        ]
    return []
