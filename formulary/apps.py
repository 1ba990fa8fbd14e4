from django.contrib.admin.apps import AdminConfig


class FormularyAdminConfig(AdminConfig):
    """Django's admin with the formulary's admin site as `admin.site`."""

    default_site = "formulary.admin_site.FormularyAdminSite"
