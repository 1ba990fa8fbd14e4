import logging

from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .ldap import DirectoryUnavailable

logger = logging.getLogger(__name__)

DIRECTORY_UNAVAILABLE = _(
    "The staff directory cannot be reached just now, so directory accounts cannot sign in. "
    "Please try again in a few minutes. This did not count as a failed sign-in."
)


class DirectoryAwareLoginForm(AdminAuthenticationForm):
    """The admin's login form, with a directory outage said in words instead of a server error."""

    error_messages = {**AdminAuthenticationForm.error_messages, "directory_unavailable": DIRECTORY_UNAVAILABLE}

    def clean(self):
        try:
            return super().clean()
        except DirectoryUnavailable as error:
            logger.warning("directory sign-in refused, the directory is unavailable: %s", error)
            raise ValidationError(self.error_messages["directory_unavailable"], code="directory_unavailable") from error
