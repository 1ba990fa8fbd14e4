from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    """Directory (LDAP / Active Directory) sign-in: staff profiles, the backend, session rechecks."""

    name = "directory"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import receivers  # noqa: F401
