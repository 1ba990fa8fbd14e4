from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from monographs import workflow, working_copy
from monographs.demo import load_lenalidomide
from monographs.roles import sync_roles

DEMO_USERS = [
    # username, password, superuser, group (created by migration 0003_roles)
    ("admin", "admin-demo-pass", True, None),
    ("editor", "editor-demo-pass", False, "Editors"),
    ("reviewer", "reviewer-demo-pass", False, "Reviewers"),
    ("reader", "reader-demo-pass", False, "Readers"),
]


class Command(BaseCommand):
    help = "Load demo data (lenalidomide with products) and demo logins. Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Allow running with DEBUG off.")
        parser.add_argument(
            "--reset-passwords",
            action="store_true",
            help="Give demo logins that already exist the demo password and role (otherwise they are left alone).",
        )

    def handle(self, *args, force, reset_passwords, **options):
        if not settings.DEBUG and not force:
            raise CommandError("Refusing to create demo logins with DEBUG off; pass --force if you mean it.")
        User = get_user_model()
        logins = []  # (username, role, password or None when the existing one was kept)
        with transaction.atomic():
            group_names = [group for *_, group in DEMO_USERS if group]
            if Group.objects.filter(name__in=group_names).count() < len(group_names):
                # Normally made by migration 0003_roles; put them back if they were deleted.
                sync_roles(Group, Permission)
            groups = {group.name: group for group in Group.objects.filter(name__in=group_names)}
            for username, password, superuser, group_name in DEMO_USERS:
                role = "superuser" if superuser else group_name
                user = User.objects.filter(username=username).first()
                if user is None or reset_passwords:
                    # A new demo login, or one put back as the demo describes it.
                    user = user or User(username=username)
                    user.set_password(password)
                    user.is_active = user.is_staff = True
                    # An example address (never delivered: example.org is reserved), so the
                    # review mails of the demo have someone to go to and say so.
                    user.email = user.email or f"{username}@example.org"
                    user.is_superuser = user.is_superuser or superuser
                    user.save()
                    if group_name:
                        user.groups.add(groups[group_name])
                    logins.append((username, role, password))
                else:
                    # Someone else's account, or one whose password was changed: leave it alone.
                    logins.append((username, role, None))
            # The editor writes the demo content, as in real use; the history credits them.
            # With the demo Chinese translation: current except the one section it leaves untranslated.
            # No outdated text: a demo that needs the "publish outdated" tick on every approval
            # teaches reviewers to tick without reading.
            entry = load_lenalidomide(user=User.objects.get(username="editor"), chinese=True)
            if not entry.editions.exists():
                # Put the demo on the public pages the way any content gets there:
                # an editor submits it and a different person, a reviewer, approves it.
                workflow.submit(entry=entry, user=User.objects.get(username="editor"), comment="Demo data")
                workflow.approve(
                    entry=entry,
                    revision=working_copy.submitted_revision(entry),
                    user=User.objects.get(username="reviewer"),
                    comment="Demo data, approved for the demo",
                )
                self.stdout.write("Published the demo entry through the review workflow (editor → reviewer).")

        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {entry.generic_name} with {entry.sections.count()} sections and "
                f"{entry.products.count()} products."
            )
        )
        self.stdout.write("Demo logins (development only):")
        for username, role, password in logins:
            if password is None:
                self.stdout.write(
                    f"  {username}: existing login kept, its password was not changed "
                    "(--reset-passwords sets the demo password)"
                )
            else:
                self.stdout.write(f"  {username} / {password}  ({role})")
