from django.contrib.auth.backends import ModelBackend
from django.views.decorators.debug import sensitive_variables

from . import accounts, ldap


class DirectoryBackend(ModelBackend):
    """Signs in directory accounts with their directory password (listed after ModelBackend, which
    serves local accounts). Permissions come from the role groups, as for everyone.

    Answers None, which Django reports to django-axes as a failed login, for a wrong password, an
    unknown or disabled account and a local account's username (never sent to the directory). When
    the directory cannot be asked it raises `ldap.DirectoryUnavailable`: an exception other than
    PermissionDenied leaves `authenticate()` before it sends `user_login_failed`, so an outage is
    nobody's failed attempt; the login form turns it into a message."""

    @sensitive_variables("password")
    def authenticate(self, request, username=None, password=None, **kwargs):
        if not ldap.enabled() or not username or not password:
            return None
        User = self._user_model()
        local = User.objects.filter(**{User.USERNAME_FIELD: username}, staff_profile__isnull=True).exists()
        if local:
            return None
        return accounts.sign_in(username, password)

    @staticmethod
    def _user_model():
        from django.contrib.auth import get_user_model

        return get_user_model()
