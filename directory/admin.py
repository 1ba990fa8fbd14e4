from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from . import accounts
from .models import StaffProfile

User = get_user_model()


class StaffProfileInline(admin.StackedInline):
    """What the directory said at the last sign-in or recheck; changed only by the directory."""

    model = StaffProfile
    can_delete = False
    extra = 0
    max_num = 0
    readonly_fields = ["display_name", "staff_number", "directory_dn", "last_checked"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class StaffUserChangeForm(UserChangeForm):
    def clean(self):
        cleaned = super().clean()
        groups = cleaned.get("groups")
        if groups is not None and any(group.name == accounts.REVIEWERS for group in groups):
            try:
                accounts.check_reviewer_role(self.instance)
            except ValidationError as error:  # shown next to the groups
                self.add_error("groups", error)
        return cleaned


class StaffUserAdmin(UserAdmin):
    form = StaffUserChangeForm
    inlines = [StaffProfileInline]
    list_select_related = ["staff_profile"]
    list_display = ["username", "directory_name", "email", "is_staff", "is_active"]

    @admin.display(description=_("name"))
    def directory_name(self, user):
        return accounts.staff_name(user)


admin.site.unregister(User)
admin.site.register(User, StaffUserAdmin)
