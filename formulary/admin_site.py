"""The admin site: Django's, except that the password-change form is guarded like the login.

Django's password-change form checks the current password with
`user.check_password`, which django-axes never sees: someone at an unattended
session could guess the password as often as they liked and then change it.
Here the current password is checked through `authenticate()`, so each wrong
guess is a failed login for django-axes, counted against the same
username/address pair, and the lockout applies to this form as to the login page.
"""

from axes.helpers import get_lockout_response
from django.contrib import admin
from django.contrib.admin.forms import AdminPasswordChangeForm
from django.contrib.auth import authenticate, logout
from django.contrib.auth.views import PasswordChangeView
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.views.decorators.debug import sensitive_variables

from directory.forms import DirectoryAwareLoginForm


class CountedPasswordChangeForm(AdminPasswordChangeForm):
    def __init__(self, user, *args, request, **kwargs):
        self.request = request
        super().__init__(user, *args, **kwargs)

    @sensitive_variables("old_password")
    def clean_old_password(self):
        old_password = self.cleaned_data["old_password"]
        # authenticate() also refuses while the pair is locked out, whatever the password.
        confirmed = authenticate(self.request, username=self.user.get_username(), password=old_password)
        if confirmed is None or confirmed.pk != self.user.pk:
            raise ValidationError(self.error_messages["password_incorrect"], code="password_incorrect")
        return old_password


class CountedPasswordChangeView(PasswordChangeView):
    form_class = CountedPasswordChangeForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}

    def form_invalid(self, form):
        if getattr(self.request, "axes_locked_out", False):
            # Like a lockout at the login page: whoever cannot give the current password
            # keeps neither the form nor the session, and gets django-axes' lockout answer.
            credentials = {"username": self.request.user.get_username()}
            logout(self.request)
            return get_lockout_response(self.request, None, credentials)
        return super().form_invalid(form)


class FormularyAdminSite(admin.AdminSite):
    # The login form says when the staff directory is down, not as a server error.
    login_form = DirectoryAwareLoginForm

    def index(self, request, extra_context=None):
        # The reviewer's and editor's home: what awaits them, before the list of tables.
        from monographs.admin_home import home_context

        return super().index(request, {**home_context(request.user), **(extra_context or {})})

    def password_change(self, request, extra_context=None):
        # As AdminSite.password_change, with the counted view.
        defaults = {
            "success_url": reverse("admin:password_change_done", current_app=self.name),
            "extra_context": {**self.each_context(request), **(extra_context or {})},
        }
        if self.password_change_template is not None:
            defaults["template_name"] = self.password_change_template
        request.current_app = self.name
        return CountedPasswordChangeView.as_view(**defaults)(request)
