"""Directory accounts in the database: creating and updating them from the directory at every
sign-in and recheck, the roles that follow the directory's groups, and how a person is named."""

import datetime
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from monographs.roles import ROLES

from . import ldap
from .models import StaffProfile

logger = logging.getLogger(__name__)

REVIEWERS = "Reviewers"


def profile_of(user):
    """The user's staff profile, or None for a local account (and for nobody)."""
    if user is None or not getattr(user, "pk", None):
        return None
    try:
        return user.staff_profile
    except ObjectDoesNotExist:
        return None


def is_directory_user(user):
    return profile_of(user) is not None


def may_hold_reviewer_role(user):
    """With directory sign-in on, only directory accounts review: a local account could be a second
    identity of a directory reviewer, and one person holding two users gets round four-eyes."""
    return not ldap.enabled() or is_directory_user(user)


LOCAL_REVIEWER_REFUSED = _(
    "With directory sign-in on, only directory accounts can be Reviewers; this is a local account."
)


def check_reviewer_role(user):
    if not may_hold_reviewer_role(user):
        raise ValidationError(LOCAL_REVIEWER_REFUSED, code="local_reviewer")


def staff_name(user):
    """How screens and the audit log name a person: the directory's display name with the staff
    number, else the full name, else the username."""
    if user is None:
        return ""
    profile = profile_of(user)
    if profile is not None:
        return str(profile)
    return user.get_full_name() or user.get_username()


@transaction.atomic
def sync(account):
    """The Django user of directory `account`, created or brought up to date: names, profile,
    and exactly the roles the directory's groups give now (others removed). None when the
    username belongs to a local account, which a directory entry must never take over."""
    User = get_user_model()
    profile = StaffProfile.objects.select_related("user").filter(directory_dn__iexact=account.dn).first()
    user = profile.user if profile else User.objects.filter(username=account.username).first()
    if user is not None and profile is None:
        profile = profile_of(user)
        if profile is None:
            logger.warning("directory account %s not signed in: %r is a local account", account.dn, account.username)
            return None
    created = user is None
    if created:
        user = User(username=account.username)
        user.set_unusable_password()
    user.username = account.username
    user.first_name, user.last_name, user.email = account.first_name[:150], account.last_name[:150], account.email
    # Admin screens need is_staff; a directory account is never a superuser.
    user.is_staff, user.is_superuser, user.is_active = bool(account.roles), False, True
    user.save()
    profile = profile or StaffProfile(user=user)
    profile.display_name = account.display_name or user.get_full_name() or account.username
    profile.staff_number = account.staff_number
    profile.directory_dn = account.dn
    profile.last_checked = timezone.now()
    profile.full_clean(exclude=["user"])
    profile.save()
    roles = Group.objects.filter(name__in=ROLES)
    user.groups.remove(*[group for group in roles if group.name not in account.roles])
    user.groups.add(*[group for group in roles if group.name in account.roles])
    return user


def sign_in(username, password):
    """The Django user for a directory sign-in, or None (wrong password, unknown, disabled, or a
    local account's name). Raises ldap.DirectoryUnavailable when the directory cannot tell."""
    account = ldap.sign_in(username, password)
    return sync(account) if account is not None else None


def recheck(user):
    """Ask the directory about a signed-in directory user again: True if still active (profile and
    roles brought up to date), False if gone or disabled (the account is then made inactive).
    Raises ldap.DirectoryUnavailable when the directory cannot tell."""
    profile = profile_of(user)
    if profile is None:
        return True
    account = ldap.recheck(profile.directory_dn)
    if account is None:
        get_user_model().objects.filter(pk=user.pk).update(is_active=False)
        return False
    return sync(account) is not None


def recheck_due(checked_at, now=None):
    return (now or timezone.now()) - checked_at >= datetime.timedelta(minutes=settings.LDAP_RECHECK_MINUTES)
