"""Periods of whole days in Hong Kong time (the site's TIME_ZONE) for the changes page, its feed
and the quarterly digest: quarters, parsing `from`/`to`, and the aware moments a period spans;
and how one moment is written in staff messages (`local_datetime`).

No database here; `selectors.changes_between` takes the moments.
"""

import datetime
from dataclasses import dataclass

from django.utils import formats, timezone
from django.utils.translation import gettext as _

MAX_DAYS = 2 * 366  # the longest period a page or digest covers


def local_datetime(moment):
    """A moment as staff read it in messages and audit comments: Hong Kong time, in the active
    language's DATETIME_FORMAT ("4 Dec 2026 09:00", "2026年12月4日 09:00")."""
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")


class PeriodError(ValueError):
    """A period that cannot be used; the message says why, in the active language."""


@dataclass(frozen=True)
class Period:
    """The days `first` to `last`, both included."""

    first: datetime.date
    last: datetime.date

    def moments(self):
        """(start, end): aware datetimes of the first day's midnight and the midnight after the
        last day, in the current time zone, for `selectors.changes_between(start, end)`."""
        tz = timezone.get_current_timezone()
        start = datetime.datetime.combine(self.first, datetime.time.min, tzinfo=tz)
        end = datetime.datetime.combine(self.last + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz)
        return start, end


def quarter_of(day):
    """The calendar quarter containing `day`, as a Period."""
    first = datetime.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    next_first = datetime.date(first.year + (first.month == 10), (first.month + 2) % 12 + 1, 1)
    return Period(first, next_first - datetime.timedelta(days=1))


def this_quarter_so_far(today=None):
    """From the first day of this quarter to today (Hong Kong time)."""
    today = today or timezone.localdate()
    return Period(quarter_of(today).first, today)


def last_complete_quarter(today=None):
    """The calendar quarter before the one containing today (Hong Kong time)."""
    today = today or timezone.localdate()
    return quarter_of(quarter_of(today).first - datetime.timedelta(days=1))


def parse_date(raw, name):
    """An ISO date (YYYY-MM-DD) from text, or PeriodError naming the parameter."""
    raw = (raw or "").strip()
    try:
        if len(raw) != 10:
            raise ValueError
        day = datetime.date.fromisoformat(raw)
    except ValueError:
        raise PeriodError(
            _("%(name)s must be a date written as YYYY-MM-DD, such as 2025-01-31.") % {"name": name}
        ) from None
    if day.year < 1900 or day.year > 9000:
        raise PeriodError(_("%(name)s must be a date between 1900 and 9000.") % {"name": name})
    return day


def make_period(first, last):
    """Period(first, last) if it runs forwards and covers at most MAX_DAYS days, else PeriodError."""
    if last < first:
        raise PeriodError(_("The end date is before the start date."))
    if (last - first).days + 1 > MAX_DAYS:
        raise PeriodError(_("Choose a period of at most two years."))
    return Period(first, last)
