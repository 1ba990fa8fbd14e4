from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonographsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "monographs"
    verbose_name = _("Formulary")

    def ready(self):
        # Imported for their side effects: reversion registration and signal receivers.
        from . import notifications, versioning, workflow  # noqa: F401
