"""Guessing the current password on the admin's password-change form counts like failed logins.

Before, the form checked the password with `user.check_password`, which
django-axes never saw: eight wrong guesses, then the right one, were accepted.
"""

import pytest
from axes.models import AccessAttempt
from django.urls import reverse

PASSWORD = "pw-editor-123"
NEW = "a-new-Passphrase-4711"


@pytest.fixture
def signed_in(client, editor, settings):
    settings.AXES_FAILURE_LIMIT = 3
    client.force_login(editor)
    return client


def change(client, old):
    return client.post(
        reverse("admin:password_change"), {"old_password": old, "new_password1": NEW, "new_password2": NEW}
    )


def test_wrong_guesses_lock_out_and_the_right_password_is_then_refused(signed_in, editor):
    for _ in range(2):
        response = change(signed_in, "guess")
        assert response.status_code == 200
        assert "Your old password was entered incorrectly" in response.content.decode()
    # The third wrong guess reaches the limit: locked out, as at the login page, and signed out.
    response = change(signed_in, "guess")
    assert response.status_code == 429
    assert "locked" in response.content.decode().lower()
    assert "_auth_user_id" not in signed_in.session
    # The right password changes nothing while locked out.
    signed_in.force_login(editor)
    assert change(signed_in, PASSWORD).status_code == 429
    editor.refresh_from_db()
    assert editor.check_password(PASSWORD) and not editor.check_password(NEW)
    # And the login page refuses the same username from the same address.
    signed_in.logout()
    login = signed_in.post(reverse("admin:login"), {"username": "editor", "password": PASSWORD})
    assert login.status_code == 429


def test_guesses_are_recorded_without_the_passwords(signed_in):
    change(signed_in, "secret-guess-1")
    attempt = AccessAttempt.objects.get()
    assert attempt.username == "editor" and attempt.failures_since_start == 1
    assert "secret-guess-1" not in attempt.post_data and NEW not in attempt.post_data


def test_the_right_password_still_changes_it(signed_in, editor):
    change(signed_in, "guess")
    response = change(signed_in, PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:password_change_done")
    editor.refresh_from_db()
    assert editor.check_password(NEW)
