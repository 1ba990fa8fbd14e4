from django.core.management.base import BaseCommand, CommandError

from directory import ldap


class Command(BaseCommand):
    help = (
        "Ask the configured directory about USERNAME as the service account: its entry, display name, "
        "staff number, whether it counts as active and which formulary roles its groups give. No password "
        "is sent and nothing is stored."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        if not ldap.enabled():
            raise CommandError("Directory sign-in is off: LDAP_SERVER_URI is not set.")
        try:
            found = ldap.look_up(username)
        except ldap.DirectoryUnavailable as error:
            raise CommandError(f"The directory could not be asked: {error}") from error
        if found is None:
            raise CommandError(f"No directory entry answers LDAP_USER_FILTER for {username!r}.")
        account, active = found
        self.stdout.write(f"entry:        {account.dn}")
        self.stdout.write(f"username:     {account.username}")
        self.stdout.write(f"display name: {account.display_name}")
        self.stdout.write(f"staff number: {account.staff_number or '(none)'}")
        self.stdout.write(f"active:       {'yes' if active else 'NO (disabled, or not matching LDAP_ACTIVE_FILTER)'}")
        self.stdout.write(f"roles:        {', '.join(sorted(account.roles)) or '(none: cannot use the admin)'}")
