"""Talking to the directory (ldap3, pure Python): sign-in, rechecks, group membership.

Nothing here touches the database. Every function either answers or raises
`DirectoryUnavailable`; a wrong password, an unknown or disabled account is an
answer (None), never an exception, so the caller can tell "the person failed to
sign in" (counted by django-axes) from "the directory could not be asked" (not
anyone's failure).
"""

import dataclasses
import logging
import ssl

import ldap3
from django.conf import settings
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import escape_rdn

logger = logging.getLogger(__name__)

# Active Directory's userAccountControl flag ACCOUNTDISABLE.
AD_ACCOUNT_DISABLED = 0x2
_INVALID_CREDENTIALS = 49
_NO_SUCH_OBJECT = 32


class DirectoryUnavailable(Exception):
    """The directory did not answer (down, unreachable, too slow) or refused the service account."""


@dataclasses.dataclass(frozen=True)
class DirectoryAccount:
    """What the formulary keeps of a directory entry."""

    dn: str
    username: str
    display_name: str
    staff_number: str
    first_name: str
    last_name: str
    email: str
    roles: frozenset


def enabled():
    return bool(settings.LDAP_SERVER_URI)


def _attributes():
    return sorted(
        {
            settings.LDAP_USERNAME_ATTRIBUTE,
            settings.LDAP_DISPLAY_NAME_ATTRIBUTE,
            settings.LDAP_STAFF_NUMBER_ATTRIBUTE,
            "givenName",
            "sn",
            "mail",
        }
    )


def _connection():
    tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=settings.LDAP_CA_FILE)
    servers = [
        ldap3.Server(uri, get_info=ldap3.NONE, connect_timeout=settings.LDAP_TIMEOUT, tls=tls)
        for uri in settings.LDAP_SERVER_URI
    ]
    # One pass over the servers in order; no server is set aside between requests.
    pool = ldap3.ServerPool(servers, ldap3.FIRST, active=1, exhaust=False)
    connection = ldap3.Connection(pool, receive_timeout=settings.LDAP_TIMEOUT, raise_exceptions=False)
    return connection


def _open(connection):
    connection.open()
    # Without raise_exceptions a refused StartTLS returns False; going on would send passwords in clear.
    if settings.LDAP_START_TLS and not (connection.start_tls() and connection.tls_started):
        raise DirectoryUnavailable(f"StartTLS failed: {connection.result}")
    return connection


def _bind(connection, user, password, *, service):
    """True when the directory accepts the password; False when it says the credentials are wrong.
    The service account being refused is a configuration fault, not a user's failure."""
    if connection.rebind(user=user, password=password):
        return True
    if connection.result.get("result") == _INVALID_CREDENTIALS and not service:
        return False
    raise DirectoryUnavailable(f"bind as {'the service account' if service else 'a user'} failed: {connection.result}")


def _service_bind(connection):
    if settings.LDAP_BIND_DN:
        _bind(connection, settings.LDAP_BIND_DN, settings.LDAP_BIND_PASSWORD, service=True)
    # Without a service account, reads are anonymous (rechecks then need a directory that allows them).


def _search(connection, base, search_filter, *, scope=ldap3.SUBTREE, attributes=()):
    connection.search(base, search_filter, search_scope=scope, attributes=list(attributes) or ldap3.NO_ATTRIBUTES)
    code = connection.result.get("result")
    if code == _NO_SUCH_OBJECT:
        return []
    if code != 0:
        raise DirectoryUnavailable(f"search failed: {connection.result}")
    return [entry for entry in connection.response if entry.get("type") == "searchResEntry"]


def _first(attributes, name):
    value = attributes.get(name)
    if isinstance(value, (list, tuple)):
        value = value[0] if value else ""
    return "" if value is None else str(value)


def _find_user(connection, username):
    search_filter = settings.LDAP_USER_FILTER.format(username=escape_filter_chars(username))
    found = _search(connection, settings.LDAP_USER_SEARCH_BASE, search_filter, attributes=_attributes())
    # Two entries answering one name is ambiguous: nobody is signed in as either.
    return found[0] if len(found) == 1 else None


def is_disabled(connection, dn):
    """Whether the entry at `dn` is gone or disabled: Active Directory's ACCOUNTDISABLE bit on
    userAccountControl (whenever the directory has the attribute), and, if configured, an entry
    that does not match LDAP_ACTIVE_FILTER (e.g. not in the active-staff group)."""
    found = _search(connection, dn, "(objectClass=*)", scope=ldap3.BASE, attributes=["userAccountControl"])
    if not found:
        return True
    control = found[0]["attributes"].get("userAccountControl")
    if isinstance(control, (list, tuple)):
        control = control[0] if control else None
    if control not in (None, "") and int(control) & AD_ACCOUNT_DISABLED:
        return True
    if settings.LDAP_ACTIVE_FILTER:
        return not _search(connection, dn, settings.LDAP_ACTIVE_FILTER, scope=ldap3.BASE)
    return False


def _roles(connection, dn):
    member_filter = settings.LDAP_GROUP_MEMBER_FILTER.format(user_dn=escape_filter_chars(dn))
    return frozenset(
        role
        for role, groups in settings.LDAP_ROLE_GROUPS.items()
        if any(_search(connection, group, member_filter, scope=ldap3.BASE) for group in groups)
    )


def _account(connection, entry):
    attributes = entry["attributes"]
    dn = entry["dn"]
    return DirectoryAccount(
        dn=dn,
        username=_first(attributes, settings.LDAP_USERNAME_ATTRIBUTE),
        display_name=_first(attributes, settings.LDAP_DISPLAY_NAME_ATTRIBUTE),
        staff_number=_first(attributes, settings.LDAP_STAFF_NUMBER_ATTRIBUTE),
        first_name=_first(attributes, "givenName"),
        last_name=_first(attributes, "sn"),
        email=_first(attributes, "mail"),
        roles=_roles(connection, dn),
    )


def _asking(work):
    """Run `work(connection)`, turning every failure to reach the directory into DirectoryUnavailable."""
    connection = None
    try:
        connection = _connection()
        return work(_open(connection))
    except LDAPException as error:
        raise DirectoryUnavailable(str(error)) from error
    finally:
        if connection is not None:
            try:
                connection.unbind()
            except LDAPException:
                logger.debug("unbind after a failed request", exc_info=True)


def sign_in(username, password):
    """The directory account `username` if `password` is its password and it is active, else None.
    Raises DirectoryUnavailable when the directory cannot tell."""
    if not username or not password:
        # An empty password is an "unauthenticated bind", which many servers accept for any DN.
        return None

    def work(connection):
        if settings.LDAP_USER_DN_TEMPLATE:
            # Direct bind: the user's own credentials first, then their entry as they may read it.
            bind_name = settings.LDAP_USER_DN_TEMPLATE.format(username=escape_rdn(username))
            if not _bind(connection, bind_name, password, service=False):
                return None
            if settings.LDAP_BIND_DN:
                _service_bind(connection)
            entry = _find_user(connection, username)
        else:
            # Search then bind: the service account finds the entry, the password is tried on its DN.
            _service_bind(connection)
            entry = _find_user(connection, username)
            if entry is None or not _bind(connection, entry["dn"], password, service=False):
                return None
            _service_bind(connection)
        if entry is None or is_disabled(connection, entry["dn"]):
            return None
        return _account(connection, entry)

    return _asking(work)


def recheck(dn):
    """The directory account at `dn` as it is now, or None if it is gone or disabled (no password:
    the service account asks). Raises DirectoryUnavailable when the directory cannot tell."""

    def work(connection):
        _service_bind(connection)
        if is_disabled(connection, dn):
            return None
        found = _search(connection, dn, "(objectClass=*)", scope=ldap3.BASE, attributes=_attributes())
        return _account(connection, found[0]) if found else None

    return _asking(work)


def look_up(username):
    """(account, active) for `username` as the service account sees it, or None if the directory
    has no such entry: what `manage.py check_directory` prints. Raises DirectoryUnavailable."""

    def work(connection):
        _service_bind(connection)
        entry = _find_user(connection, username)
        if entry is None:
            return None
        return _account(connection, entry), not is_disabled(connection, entry["dn"])

    return _asking(work)
