from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from monographs.demo import load_lenalidomide

DEMO_USERS = [
    # username, password, superuser
    ("admin", "admin-demo-pass", True),
]


class Command(BaseCommand):
    help = "Load demo data (lenalidomide with products) and demo logins. Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Allow running with DEBUG off.")

    def handle(self, *args, force, **options):
        if not settings.DEBUG and not force:
            raise CommandError("Refusing to create demo logins with DEBUG off; pass --force if you mean it.")
        User = get_user_model()
        logins = []
        for username, password, superuser in DEMO_USERS:
            user, created = User.objects.get_or_create(username=username, defaults={"is_staff": True})
            if created:
                user.set_password(password)
                user.is_superuser = superuser
                user.save()
            logins.append((username, password))
        entry = load_lenalidomide(user=User.objects.get(username="admin"))
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {entry.generic_name} with {entry.sections.count()} sections and "
                f"{entry.products.count()} products."
            )
        )
        self.stdout.write("Demo logins (development only):")
        for username, password in logins:
            self.stdout.write(f"  {username} / {password}")
