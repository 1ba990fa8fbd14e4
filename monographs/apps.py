from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonographsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "monographs"
    verbose_name = _("Formulary")

    def ready(self):
        # Connects the signal receivers (models register themselves with django-reversion).
        from . import receivers  # noqa: F401
