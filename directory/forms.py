import logging

from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Django sets the username's max_length after the field is built, so the length is never
        # checked: a longer name reached django-axes, whose record of the attempt cannot hold it (a 500).
        username = self.fields["username"]
        username.validators.append(MaxLengthValidator(username.max_length))

    def clean(self):
        try:
            return super().clean()
        except DirectoryUnavailable as error:
            logger.warning("directory sign-in refused, the directory is unavailable: %s", error)
            raise ValidationError(self.error_messages["directory_unavailable"], code="directory_unavailable") from error
