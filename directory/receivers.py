"""Signal receivers of the directory app, wired from apps.py."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import m2m_changed
from django.dispatch import receiver
from django.utils import timezone

from . import accounts

CHECKED_AT = "directory_checked_at"


@receiver(user_logged_in)
def stamp_directory_session(sender, request, user, **kwargs):
    # The session remembers when the directory last vouched for its user; the recheck middleware
    # asks again once that is LDAP_RECHECK_MINUTES old. Local accounts' sessions carry no stamp.
    if request is not None and hasattr(request, "session") and accounts.is_directory_user(user):
        request.session[CHECKED_AT] = timezone.now().isoformat()


@receiver(m2m_changed, sender=get_user_model().groups.through)
def refuse_local_reviewers(sender, instance, action, reverse, pk_set, **kwargs):
    # Every way into the Reviewers group (admin user form, user.groups.add, group.user_set.add,
    # a shell) passes here; the user form says it first, next to the field (directory/admin.py).
    if action != "pre_add" or not pk_set:
        return
    User = get_user_model()
    if reverse:  # group.user_set.add(users)
        if instance.name != accounts.REVIEWERS:
            return
        users = User.objects.filter(pk__in=pk_set).select_related("staff_profile")
    else:  # user.groups.add(groups)
        if not Group.objects.filter(pk__in=pk_set, name=accounts.REVIEWERS).exists():
            return
        users = [instance]
    for user in users:
        accounts.check_reviewer_role(user)
