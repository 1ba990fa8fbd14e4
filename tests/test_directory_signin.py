"""Directory sign-in against a real OpenLDAP server (Debian's slapd), started by these tests with
their own configuration and data in a temporary folder, on a free port.

Outside CI the tests skip when slapd is not installed (`./run test` installs it); in CI
(CI=true) its absence fails. Nothing else in the suite needs a directory: without
LDAP_SERVER_URI there is no directory backend at all.
"""

import datetime
import io
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import ldap3
import pytest
import time_machine
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from directory import accounts
from directory.models import StaffProfile
from monographs import workflow
from monographs.models import AuditEvent, State
from monographs.roles import sync_roles

from .factories import admin_entry_url, make_user, password_of
from .test_admin_review import decide

BASE = "dc=hospital,dc=test"
ROOT_DN = f"cn=admin,{BASE}"
ROOT_PASSWORD = "root-secret"  # nosec: a throw-away test directory
SERVICE_DN = f"cn=formulary-svc,{BASE}"
SERVICE_PASSWORD = "svc-secret"  # nosec
PEOPLE = f"ou=people,{BASE}"
GROUPS = f"ou=groups,{BASE}"
EDITORS, REVIEWERS, READERS, ACTIVE = (
    f"cn={name},{GROUPS}" for name in ("formulary-editors", "formulary-reviewers", "formulary-readers", "active-staff")
)
SLAPD = shutil.which("slapd") or ("/usr/sbin/slapd" if os.path.exists("/usr/sbin/slapd") else None)

# Active Directory's disabled flag, with AD's own attribute OID, so the AD branch runs against a server.
AD_SCHEMA = """
attributetype ( 1.2.840.113556.1.4.8 NAME 'userAccountControl'
  EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
objectclass ( 1.3.6.1.4.1.55555.1.1 NAME 'adLikeAccount' AUXILIARY MAY userAccountControl )
"""

SLAPD_CONF = """
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/nis.schema
include /etc/ldap/schema/inetorgperson.schema
include {folder}/ad.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
pidfile {folder}/slapd.pid
argsfile {folder}/slapd.args
TLSCertificateFile {folder}/server.pem
TLSCertificateKeyFile {folder}/server.key

database mdb
maxsize 10485760
suffix "{base}"
rootdn "{root_dn}"
rootpw {root_password}
directory {folder}/data
overlay memberof

access to attrs=userPassword
  by dn.exact="{service_dn}" none
  by self read
  by anonymous auth
  by * none
access to *
  by dn.exact="{service_dn}" read
  by self read
  by * none
"""


def person(uid, name, number, password, *, extra=""):
    return f"""dn: uid={uid},{PEOPLE}
objectClass: inetOrgPerson{extra and chr(10) + "objectClass: adLikeAccount"}
uid: {uid}
cn: {name}
sn: {name.split()[0]}
givenName: {name.split()[-1]}
displayName: {name}
employeeNumber: {number}
mail: {uid}@hospital.test
userPassword: {password}
{extra}
"""


def group(dn, *uids):
    members = "\n".join(f"member: uid={uid},{PEOPLE}" for uid in uids)
    return f"dn: {dn}\nobjectClass: groupOfNames\ncn: {dn.split(',')[0][3:]}\n{members}\n"


PASSWORDS = {uid: f"dir-{uid}-pass" for uid in ("rchan", "rwong", "eli", "leaver", "adgone", "gone")}
LDIF = "\n".join(
    [
        f"dn: {BASE}\nobjectClass: dcObject\nobjectClass: organization\ndc: hospital\no: Test Hospital\n",
        f"dn: {SERVICE_DN}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\n"
        f"cn: formulary-svc\nuserPassword: {SERVICE_PASSWORD}\n",
        f"dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people\n",
        f"dn: {GROUPS}\nobjectClass: organizationalUnit\nou: groups\n",
        person("rchan", "Chan Tai-man", "P10234", PASSWORDS["rchan"]),
        person("rwong", "Wong Siu-ming", "P10777", PASSWORDS["rwong"]),
        person("eli", "Li Ka-yan", "P20001", PASSWORDS["eli"]),
        person("leaver", "Ho Wing-sze", "P30003", PASSWORDS["leaver"]),
        person("adgone", "Lam Chi-keung", "P40004", PASSWORDS["adgone"], extra="userAccountControl: 514"),
        person("gone", "Cheung Mei-ling", "P50005", PASSWORDS["gone"]),
        group(EDITORS, "eli"),
        group(REVIEWERS, "rchan", "rwong", "leaver", "adgone", "gone"),
        group(READERS, "eli"),
        group(ACTIVE, "rchan", "rwong", "eli", "leaver", "adgone", "gone"),
    ]
)


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Slapd:
    def __init__(self, folder):
        self.folder = Path(folder)
        self.port, self.tls_port = _free_port(), _free_port()
        self.uri = f"ldap://127.0.0.1:{self.port}"
        self.ldaps_uri = f"ldaps://127.0.0.1:{self.tls_port}"
        (self.folder / "data").mkdir()
        # A self-signed certificate for 127.0.0.1: StartTLS and ldaps:// with the CA file set.
        subprocess.run(  # nosec: a fixed command
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"]
            + ["-keyout", str(self.folder / "server.key"), "-out", str(self.folder / "server.pem")]
            + ["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
            check=True,
            capture_output=True,
        )
        self.ca_file = str(self.folder / "server.pem")
        (self.folder / "ad.schema").write_text(AD_SCHEMA)
        (self.folder / "slapd.conf").write_text(
            SLAPD_CONF.format(
                folder=self.folder,
                base=BASE,
                root_dn=ROOT_DN,
                root_password=ROOT_PASSWORD,
                service_dn=SERVICE_DN,
            )
        )
        (self.folder / "data.ldif").write_text(LDIF)
        # -d keeps it in the foreground as our child; -h: only this address.
        self.process = subprocess.Popen(  # nosec: a fixed command
            [SLAPD, "-f", str(self.folder / "slapd.conf"), "-h", f"{self.uri}/ {self.ldaps_uri}/", "-d", "0"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"slapd did not start: {self.process.stderr.read().decode()}") from None
                time.sleep(0.1)

    def admin(self):
        return ldap3.Connection(self.uri, ROOT_DN, ROOT_PASSWORD, auto_bind=True, raise_exceptions=True)

    def reset(self):
        """Back to the data above: every test starts from the same directory."""
        with ldap3.Connection(self.uri, ROOT_DN, ROOT_PASSWORD, auto_bind=True) as conn:
            conn.search(BASE, "(objectClass=*)", attributes=[])  # noSuchObject before the first load
            entries = sorted((entry.entry_dn for entry in conn.entries), key=lambda dn: -dn.count(","))
            for dn in entries:
                conn.delete(dn)
        subprocess.run(  # nosec: ldap-utils' ldapadd, as an administrator would load the data
            ["ldapadd", "-x", "-H", self.uri, "-D", ROOT_DN, "-w", ROOT_PASSWORD, "-f", str(self.folder / "data.ldif")],
            check=True,
            capture_output=True,
        )

    def modify(self, dn, changes):
        with self.admin() as conn:
            conn.modify(dn, changes)

    def delete(self, dn):
        with self.admin() as conn:
            conn.delete(dn)

    def stop(self):
        self.process.send_signal(signal.SIGCONT)
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture(scope="session")
def slapd(tmp_path_factory):
    if SLAPD is None or not shutil.which("ldapadd"):
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("slapd and ldap-utils are required in CI (./run test installs them with apt-get)")
        pytest.skip("slapd (Debian package slapd, with ldap-utils) is not installed")
    server = Slapd(tmp_path_factory.mktemp("slapd"))
    yield server
    server.stop()


@pytest.fixture
def directory(slapd, settings, db):
    """Directory sign-in on, against the test slapd, configured as docs/operations.md shows for OpenLDAP."""
    slapd.reset()
    settings.LDAP_SERVER_URI = [slapd.uri]
    settings.LDAP_BIND_DN = SERVICE_DN
    settings.LDAP_BIND_PASSWORD = SERVICE_PASSWORD
    settings.LDAP_USER_DN_TEMPLATE = ""
    settings.LDAP_USER_SEARCH_BASE = PEOPLE
    settings.LDAP_USER_FILTER = "(&(objectClass=inetOrgPerson)(uid={username}))"
    settings.LDAP_ACTIVE_FILTER = f"(memberOf={ACTIVE})"
    settings.LDAP_GROUP_MEMBER_FILTER = "(member={user_dn})"
    settings.LDAP_ROLE_GROUPS = {"Editors": [EDITORS], "Reviewers": [REVIEWERS], "Readers": [READERS]}
    settings.LDAP_TIMEOUT = 1
    settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, "directory.backends.DirectoryBackend"]
    # The groups the roles migration made (transactional tests flush them).
    sync_roles(Group, Permission)
    return slapd


def sign_in(client, username, password):
    return client.post(reverse("admin:login"), {"username": username, "password": password, "next": "/admin/"})


def roles_of(username):
    user = get_user_model().objects.get(username=username)
    return set(user.groups.values_list("name", flat=True))


def signed_in(client):
    return "_auth_user_id" in client.session


@pytest.fixture
def paused(directory):
    """The directory stops answering (SIGSTOP: connections open, nothing replies), then resumes."""
    directory.process.send_signal(signal.SIGSTOP)
    try:
        yield directory
    finally:
        directory.process.send_signal(signal.SIGCONT)


def test_reviewer_signs_in_with_the_directory_password_and_approves(client, directory, lenalidomide, editor):
    submitted = workflow.submit(entry=lenalidomide, user=editor, comment="Ready")
    assert submitted

    response = sign_in(client, "rchan", PASSWORDS["rchan"])
    assert response.status_code == 302 and signed_in(client)
    user = get_user_model().objects.get(username="rchan")
    assert roles_of("rchan") == {"Reviewers"}
    assert user.is_staff and not user.is_superuser and not user.has_usable_password()
    profile = user.staff_profile
    assert (profile.display_name, profile.staff_number) == ("Chan Tai-man", "P10234")
    assert profile.directory_dn == f"uid=rchan,{PEOPLE}"

    # The review page names the submitter; approving through it publishes the entry.
    assert decide(client, lenalidomide, "approve", "Checked against the PI").status_code == 302
    lenalidomide.state.refresh_from_db()
    assert lenalidomide.state.state == State.PUBLISHED
    event = AuditEvent.objects.get(entry=lenalidomide, action="approved")
    assert event.actor == user
    # The audit log and the entry's history name the reviewer as the directory does.
    audit_log = client.get(reverse("admin:monographs_auditevent_changelist")).content.decode()
    assert "Chan Tai-man (P10234)" in audit_log
    history = client.get(admin_entry_url(lenalidomide, "history")).content.decode()
    assert "Chan Tai-man (P10234)" in history


def test_review_page_shows_the_submitters_directory_name(client, directory, lenalidomide):
    sign_in(client, "eli", PASSWORDS["eli"])
    eli = get_user_model().objects.get(username="eli")
    assert roles_of("eli") == {"Editors", "Readers"}
    workflow.submit(entry=lenalidomide, user=eli, comment="Ready")
    client.logout()
    sign_in(client, "rchan", PASSWORDS["rchan"])
    page = client.get(admin_entry_url(lenalidomide, "review")).content.decode()
    assert "Submitted by Li Ka-yan (P20001)" in page
    assert "Li Ka-yan (P20001)" in client.get(reverse("admin:monographs_entry_review_queue")).content.decode()


def test_moving_to_the_editors_group_changes_the_role_at_the_next_sign_in(client, directory, lenalidomide, editor):
    sign_in(client, "rchan", PASSWORDS["rchan"])
    assert roles_of("rchan") == {"Reviewers"}
    dn = f"uid=rchan,{PEOPLE}"
    directory.modify(REVIEWERS, {"member": [(ldap3.MODIFY_DELETE, [dn])]})
    directory.modify(EDITORS, {"member": [(ldap3.MODIFY_ADD, [dn])]})
    client.logout()

    assert sign_in(client, "rchan", PASSWORDS["rchan"]).status_code == 302
    assert roles_of("rchan") == {"Editors"}
    user = get_user_model().objects.get(username="rchan")
    workflow.submit(entry=lenalidomide, user=editor, comment="Ready")
    assert not workflow.can_review(user, lenalidomide)
    page = client.get(admin_entry_url(lenalidomide, "review")).content.decode()
    assert "Only reviewers can approve or reject." in page
    assert client.get(reverse("admin:monographs_entry_add")).status_code == 200


def test_removed_from_every_group_loses_every_role_and_the_admin(client, directory):
    sign_in(client, "rwong", PASSWORDS["rwong"])
    assert roles_of("rwong") == {"Reviewers"}
    directory.modify(REVIEWERS, {"member": [(ldap3.MODIFY_DELETE, [f"uid=rwong,{PEOPLE}"])]})
    client.logout()
    response = sign_in(client, "rwong", PASSWORDS["rwong"])
    # The directory accepts the password, but without a role there is no staff account.
    assert response.status_code == 200 and not signed_in(client)
    assert roles_of("rwong") == set()
    assert not get_user_model().objects.get(username="rwong").is_staff


@pytest.mark.parametrize("how", ["left the active-staff group", "AD disabled bit", "deleted"])
def test_a_disabled_or_deleted_directory_user_cannot_sign_in(client, directory, how):
    uid = {"left the active-staff group": "leaver", "AD disabled bit": "adgone", "deleted": "gone"}[how]
    dn = f"uid={uid},{PEOPLE}"
    if uid != "adgone":
        # Signed in once while active, so a Django user and profile exist.
        assert sign_in(client, uid, PASSWORDS[uid]).status_code == 302
        client.logout()
        if uid == "leaver":
            directory.modify(ACTIVE, {"member": [(ldap3.MODIFY_DELETE, [dn])]})
        else:
            directory.delete(dn)
    response = sign_in(client, uid, PASSWORDS[uid])
    assert response.status_code == 200 and not signed_in(client)
    assert "Please enter the correct username and password" in response.content.decode()
    if uid == "adgone":
        assert not get_user_model().objects.filter(username=uid).exists()


def test_a_wrong_directory_password_counts_toward_the_lockout(client, directory, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for attempt in range(1, 4):
        response = sign_in(client, "rchan", "not-the-password")
        assert response.status_code in (200, 429)
        assert AccessAttempt.objects.get(username="rchan").failures_since_start == attempt
    # Locked out: the right directory password is refused too, for a while.
    response = sign_in(client, "rchan", PASSWORDS["rchan"])
    assert response.status_code == 429 and not signed_in(client)


def test_an_unknown_directory_name_counts_too(client, directory):
    sign_in(client, "nobody", "whatever-it-is")
    assert AccessAttempt.objects.get(username="nobody").failures_since_start == 1


def test_a_stopped_directory_gives_a_clear_message_and_a_local_admin_still_signs_in(client, paused, settings):
    settings.AXES_FAILURE_LIMIT = 2
    breakglass = make_user("breakglass", superuser=True)
    started = time.monotonic()
    for _ in range(3):  # more than the lockout limit: none of them counts
        response = sign_in(client, "rchan", PASSWORDS["rchan"])
        assert response.status_code == 200 and not signed_in(client)
        assert "The staff directory cannot be reached just now" in response.content.decode()
    assert time.monotonic() - started < 3 * (settings.LDAP_TIMEOUT * 2 + 2)
    assert not AccessAttempt.objects.filter(username="rchan").exists()

    response = sign_in(client, "breakglass", password_of("breakglass"))
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(breakglass.pk)
    # A local wrong password is still counted while the directory is down (it is never asked).
    client.logout()
    sign_in(client, "breakglass", "wrong")
    assert AccessAttempt.objects.get(username="breakglass").failures_since_start == 1


def test_a_directory_refusing_connections_gives_the_same_message(client, directory, settings):
    settings.LDAP_SERVER_URI = [f"ldap://127.0.0.1:{_free_port()}"]
    response = sign_in(client, "rchan", PASSWORDS["rchan"])
    assert response.status_code == 200
    assert "The staff directory cannot be reached just now" in response.content.decode()
    assert not AccessAttempt.objects.exists()


def test_the_directory_coming_back_lets_the_same_user_in(client, directory):
    directory.process.send_signal(signal.SIGSTOP)
    try:
        assert "cannot be reached" in sign_in(client, "rchan", PASSWORDS["rchan"]).content.decode()
    finally:
        directory.process.send_signal(signal.SIGCONT)
    assert sign_in(client, "rchan", PASSWORDS["rchan"]).status_code == 302


def test_a_leavers_session_ends_at_the_recheck(client, directory):
    with time_machine.travel(timezone.now(), tick=True) as clock:
        sign_in(client, "leaver", PASSWORDS["leaver"])
        assert client.get(reverse("admin:index")).status_code == 200
        directory.modify(ACTIVE, {"member": [(ldap3.MODIFY_DELETE, [f"uid=leaver,{PEOPLE}"])]})
        # Rechecked at most every 15 minutes, not on every request.
        clock.shift(datetime.timedelta(minutes=14))
        assert client.get(reverse("admin:index")).status_code == 200
        clock.shift(datetime.timedelta(minutes=1, seconds=1))
        response = client.get(reverse("admin:index"), follow=True)
    assert not signed_in(client)
    assert response.redirect_chain[-1][0].startswith(reverse("admin:login"))
    assert "your directory account is disabled or no longer exists" in response.content.decode()
    assert not get_user_model().objects.get(username="leaver").is_active


def test_an_active_users_session_continues_and_follows_group_changes_at_the_recheck(client, directory):
    with time_machine.travel(timezone.now(), tick=True) as clock:
        sign_in(client, "rwong", PASSWORDS["rwong"])
        before = StaffProfile.objects.get(user__username="rwong").last_checked
        directory.modify(EDITORS, {"member": [(ldap3.MODIFY_ADD, [f"uid=rwong,{PEOPLE}"])]})
        clock.shift(datetime.timedelta(minutes=15, seconds=1))
        assert client.get(reverse("admin:index")).status_code == 200
    assert signed_in(client)
    assert roles_of("rwong") == {"Editors", "Reviewers"}
    assert StaffProfile.objects.get(user__username="rwong").last_checked > before


def test_the_directory_down_at_the_recheck_ends_the_session(client, directory):
    with time_machine.travel(timezone.now(), tick=True) as clock:
        sign_in(client, "rwong", PASSWORDS["rwong"])
        clock.shift(datetime.timedelta(minutes=15, seconds=1))
        directory.process.send_signal(signal.SIGSTOP)
        try:
            response = client.get(reverse("admin:index"), follow=True)
        finally:
            directory.process.send_signal(signal.SIGCONT)
    assert not signed_in(client)
    assert "could not be reached to confirm your account" in response.content.decode()


def test_a_directory_entry_never_takes_over_a_local_account(client, directory):
    local = make_user("rchan", "Editors")
    response = sign_in(client, "rchan", PASSWORDS["rchan"])
    assert response.status_code == 200 and not signed_in(client)
    local.refresh_from_db()
    assert not StaffProfile.objects.filter(user=local).exists()
    assert local.check_password(password_of("rchan"))


def test_local_accounts_are_never_reviewers_with_directory_sign_in(client, directory, lenalidomide, editor):
    reviewers = Group.objects.get(name="Reviewers")
    local = make_user("localrev")
    # Refused from either side of the relation (the guard is the last line: forms say it first).
    with pytest.raises(ValidationError), transaction.atomic():
        local.groups.add(reviewers)
    with pytest.raises(ValidationError), transaction.atomic():
        reviewers.user_set.add(local)
    assert not local.groups.exists()

    # The user admin says so next to the groups.
    breakglass = make_user("breakglass", superuser=True)
    client.force_login(breakglass)
    page = client.get(reverse("admin:auth_user_change", args=[local.pk]))
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update({"groups": [reviewers.pk], "user_permissions": [], "date_joined_0": "2026-01-01"})
    data.update({"date_joined_1": "00:00:00", "last_login_0": "", "last_login_1": ""})
    response = client.post(reverse("admin:auth_user_change", args=[local.pk]), data)
    assert response.status_code == 200
    assert "only directory accounts can be Reviewers" in response.content.decode()
    assert not local.groups.exists()

    # Even a superuser's local account cannot review: one person, two users, no four-eyes.
    workflow.submit(entry=lenalidomide, user=editor, comment="Ready")
    assert not workflow.can_review(breakglass, lenalidomide)
    assert workflow.may_approve(breakglass, lenalidomide, lenalidomide.state.submitted_revision)[0] is False
    # A directory reviewer may be added to the group by hand.
    sign_in(client, "rchan", PASSWORDS["rchan"])
    directory_user = get_user_model().objects.get(username="rchan")
    accounts.check_reviewer_role(directory_user)


def test_without_ldap_settings_there_is_no_directory(settings, reviewer):
    from django.conf import settings as live

    assert live.LDAP_SERVER_URI == [] or os.environ.get("LDAP_SERVER_URI")
    assert "directory.backends.DirectoryBackend" not in live.AUTHENTICATION_BACKENDS or live.LDAP_SERVER_URI
    settings.LDAP_SERVER_URI = []
    # Local reviewers are the only kind then, and review as before.
    assert accounts.may_hold_reviewer_role(reviewer)
    assert workflow.can_review_any(reviewer)


def test_check_directory_shows_what_a_sign_in_would_get(directory):
    out = io.StringIO()
    call_command("check_directory", "eli", stdout=out)
    text = out.getvalue()
    assert f"uid=eli,{PEOPLE}" in text and "Li Ka-yan" in text and "P20001" in text
    assert "active:       yes" in text and "roles:        Editors, Readers" in text
    out = io.StringIO()
    call_command("check_directory", "adgone", stdout=out)
    assert "active:       NO" in out.getvalue()
    with pytest.raises(CommandError, match="No directory entry"):
        call_command("check_directory", "nobody")


def test_check_deploy_warns_about_a_directory_in_clear(settings):
    from formulary.checks import directory_passwords_encrypted

    settings.LDAP_SERVER_URI = ["ldap://ldap.hospital.example"]
    settings.LDAP_START_TLS = False
    assert [w.id for w in directory_passwords_encrypted(None)] == ["formulary.W005"]
    settings.LDAP_START_TLS = True
    assert directory_passwords_encrypted(None) == []
    settings.LDAP_START_TLS = False
    settings.LDAP_SERVER_URI = ["ldaps://dc1.hospital.example"]
    assert directory_passwords_encrypted(None) == []


@pytest.mark.parametrize("transport", ["StartTLS", "ldaps"])
def test_signs_in_over_tls_with_the_servers_certificate_checked(client, directory, settings, transport):
    if transport == "StartTLS":
        settings.LDAP_START_TLS = True
    else:
        settings.LDAP_SERVER_URI = [directory.ldaps_uri]
    settings.LDAP_CA_FILE = directory.ca_file
    assert sign_in(client, "rchan", PASSWORDS["rchan"]).status_code == 302
    client.logout()
    # A certificate the configured CAs do not vouch for: the directory is as good as unreachable.
    settings.LDAP_CA_FILE = None
    response = sign_in(client, "rchan", PASSWORDS["rchan"])
    assert "The staff directory cannot be reached just now" in response.content.decode()


def test_direct_bind_with_a_dn_template(client, directory, settings):
    settings.LDAP_USER_DN_TEMPLATE = f"uid={{username}},{PEOPLE}"
    assert sign_in(client, "eli", PASSWORDS["eli"]).status_code == 302
    assert roles_of("eli") == {"Editors", "Readers"}
    client.logout()
    sign_in(client, "eli", "wrong-password")
    assert AccessAttempt.objects.get(username="eli").failures_since_start == 1
    # The template escapes what it is given: no other entry can be named through it.
    sign_in(client, "eli,ou=people", PASSWORDS["eli"])
    assert not signed_in(client)


def test_the_next_server_answers_when_the_first_refuses(client, directory, settings):
    settings.LDAP_SERVER_URI = [f"ldap://127.0.0.1:{_free_port()}", directory.uri]
    assert sign_in(client, "rchan", PASSWORDS["rchan"]).status_code == 302
