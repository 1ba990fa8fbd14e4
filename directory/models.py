from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

_BLANK_DN = _("A staff profile needs the directory entry (DN) it came from.")
_BLANK_NAME = _("A staff profile needs a display name.")
# The same rule as the CHECK constraints below: something other than white space.


class StaffProfile(models.Model):
    """What the directory says about a person, beside Django's user. A user with a profile is a
    directory account (signs in with the directory password, never a local one); a user without
    one is a local account (break-glass administrators, or every account when sign-in is local)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_profile")
    display_name = models.CharField(
        _("display name"), max_length=200, validators=[RegexValidator(r"\S", _BLANK_NAME, code="blank")]
    )
    staff_number = models.CharField(
        _("staff number"), max_length=50, blank=True, help_text=_("As the directory has it; empty if it has none.")
    )
    directory_dn = models.CharField(
        _("directory entry"), max_length=500, unique=True, validators=[RegexValidator(r"\S", _BLANK_DN, code="blank")]
    )
    last_checked = models.DateTimeField(
        _("last checked"), help_text=_("When the directory last confirmed the account active.")
    )

    class Meta:
        verbose_name = _("staff profile")
        constraints = [
            models.CheckConstraint(
                condition=Q(directory_dn__regex=r"\S"), name="staff_profile_has_dn", violation_error_message=_BLANK_DN
            ),
            models.CheckConstraint(
                condition=Q(display_name__regex=r"\S"),
                name="staff_profile_has_display_name",
                violation_error_message=_BLANK_NAME,
            ),
            models.UniqueConstraint(
                fields=["staff_number"],
                condition=~Q(staff_number=""),
                name="staff_profile_unique_staff_number",
                violation_error_message=_("Another staff profile has this staff number."),
            ),
        ]

    def __str__(self):
        return f"{self.display_name} ({self.staff_number})" if self.staff_number else self.display_name
