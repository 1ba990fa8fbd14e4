from django.contrib.admin.apps import AdminConfig


class FormularyAdminConfig(AdminConfig):
    """Django's admin with the formulary's admin site as `admin.site`."""

    default_site = "formulary.admin_site.FormularyAdminSite"

    def ready(self):
        super().ready()
        # The deployment checks of `check --deploy` (the project has no app of its own to hold them).
        from . import checks  # noqa: F401
