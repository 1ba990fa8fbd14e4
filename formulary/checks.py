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
