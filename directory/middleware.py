import datetime
import logging

from django.contrib import messages
from django.contrib.auth import logout
from django.utils import timezone
from django.utils.translation import gettext as _

from formulary.middleware import DATABASE_ERRORS, database_unavailable

from . import accounts, ldap
from .receivers import CHECKED_AT

logger = logging.getLogger(__name__)


class DirectoryRecheckMiddleware:
    """Ends a directory user's session once the directory stops vouching for them.

    At most every LDAP_RECHECK_MINUTES (15) of a session the service account asks the directory
    again; a deleted or disabled account (or one no longer active by LDAP_ACTIVE_FILTER) is signed
    out at its next request, and its roles follow the directory's groups in between sign-ins.

    If the directory cannot be asked when a recheck is due, the session ends too (fails closed): a
    leaver's access must end within the bound, and an outage is exactly when a disabled account
    cannot be told from an active one; keeping sessions alive through an outage would also let
    anyone able to block the directory extend a stolen session. Local break-glass accounts still
    sign in meanwhile. Sessions of local accounts carry no stamp and cost nothing here.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if ldap.enabled():
            try:
                self._recheck_if_due(request)
            except DATABASE_ERRORS as error:
                # Reading the session is this request's first query: the 503 of a database
                # outage, as a view would give, not a bare 500 from a middleware.
                return database_unavailable(error)
        return self.get_response(request)

    def _recheck_if_due(self, request):
        session = getattr(request, "session", None)
        stamp = session.get(CHECKED_AT) if session is not None else None
        if stamp is not None and self._due(stamp):
            self._recheck(request)

    @staticmethod
    def _due(stamp):
        try:
            checked_at = datetime.datetime.fromisoformat(stamp)
        except (TypeError, ValueError):
            return True
        return accounts.recheck_due(checked_at)

    def _recheck(self, request):
        user = request.user
        if not user.is_authenticated:
            request.session.pop(CHECKED_AT, None)
            return
        try:
            active = accounts.recheck(user)
        except ldap.DirectoryUnavailable as error:
            logger.warning("directory unavailable at the recheck of %s; session ended: %s", user.get_username(), error)
            self._end(
                request,
                _(
                    "Your session has ended: the staff directory could not be reached to confirm your account. Sign in again when it is back."
                ),
            )
            return
        if not active:
            logger.warning("directory account %s is disabled or gone; session ended", user.get_username())
            self._end(request, _("Your session has ended: your directory account is disabled or no longer exists."))
            return
        request.session[CHECKED_AT] = timezone.now().isoformat()

    @staticmethod
    def _end(request, message):
        logout(request)
        messages.warning(request, message)
