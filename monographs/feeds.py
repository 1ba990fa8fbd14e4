"""The Atom feed of what changed on the public pages (Django's syndication framework).

Thin, like the views: the items come from `selectors.changes_between`, so the feed
shows what the changes page shows (a withdrawn entry by its name and date only). The
feed is in the request's language, chosen as on every page (the language cookie, else
Accept-Language), or in the one named by `?language=`.
"""

import datetime
import functools

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext as _

from . import http_cache, periods, public_cache, selectors
from .text_rules import strip_controls

FEED_ITEMS = 50


def _xml_safe(method):
    """XML 1.0 cannot carry control characters: Django's feed writer raises on one (a 500 for
    every reader). Editions are cleaned when read (`Edition.from_db`); this is the last guard
    for whatever else a title or description is made from (`text_rules.strip_controls`)."""

    @functools.wraps(method)
    def wrapper(self, item):
        return strip_controls(method(self, item))

    return wrapper


class StyledAtomFeed(Atom1Feed):
    """An Atom feed that names its stylesheets in `xml-stylesheet` processing instructions, as
    Django's RSS writer does (its Atom writer does not), so a browser opening the feed shows a
    readable page instead of raw XML. The stylesheet is CSS, not XSLT: Chromium has deprecated
    XSLT (it shows a warning banner over transformed pages) and is removing it.

    Served as `application/xml`: Chromium shows `application/atom+xml` as plain text, stylesheet
    or not, while feed readers take an Atom document by its root element whatever XML type it
    comes as. Pages still announce it as `application/atom+xml` (autodiscovery)."""

    content_type = "application/xml; charset=utf-8"

    def write(self, outfile, encoding):
        from django.utils.xmlutils import SimplerXMLGenerator

        handler = SimplerXMLGenerator(outfile, encoding, short_empty_elements=True)
        handler.startDocument()
        # After the XML declaration, before the root element.
        for stylesheet in self.feed.get("stylesheets") or []:
            handler.processingInstruction("xml-stylesheet", str(stylesheet))
        handler.startElement("feed", self.root_attributes())
        self.add_root_elements(handler)
        self.write_items(handler)
        handler.endElement("feed")


class ChangesFeed(Feed):
    feed_type = StyledAtomFeed

    def stylesheets(self, obj):
        from django.utils.feedgenerator import Stylesheet

        # One file per language: its explanatory text is in the feed's language.
        name = "feed-zh-hant.css" if translation.get_language() == "zh-hant" else "feed.css"
        return [Stylesheet(static(f"formulary/{name}"), mimetype="text/css")]

    def __call__(self, request, *args, **kwargs):
        language = request.GET.get("language", "")
        if language not in dict(settings.LANGUAGES):
            if "language" in request.GET:
                public_cache.not_shared(request)  # answered in the page's language, not kept
            language = translation.get_language()
        with translation.override(language):
            response = super().__call__(request, *args, **kwargs)
        response.headers["Content-Language"] = language
        return response

    def get_object(self, request):
        days = settings.FORMULARY_CHANGES_FEED_DAYS
        today = timezone.localdate()
        period = periods.Period(today - datetime.timedelta(days=days - 1), today)
        return selectors.changes_between(*period.moments(), limit=FEED_ITEMS)

    def title(self, obj):
        return _("Hospital Formulary: what changed")

    def subtitle(self, obj):
        return _("New, changed and withdrawn entries of the hospital formulary.")

    def link(self, obj):
        return reverse("monographs:changes")

    def feed_url(self, obj):
        return reverse("monographs:changes_feed") + f"?language={translation.get_language()}"

    def author_name(self, obj):
        return _("Hospital Formulary")

    def items(self, obj):
        return obj.rows()

    @_xml_safe
    def item_title(self, item):
        kind, row = item
        if kind == "new":
            return _("New: %(name)s") % {"name": row.generic_name}
        if kind == "changed":
            return _("Changed: %(name)s (edition %(number)d)") % {"name": row.generic_name, "number": row.new}
        return _("Withdrawn: %(name)s") % {"name": row.generic_name}

    @_xml_safe
    def item_description(self, item):
        kind, row = item
        if kind == "new":
            return _("First published.")
        if kind == "changed":
            from django.template.loader import render_to_string

            summary = render_to_string("monographs/_change_summary.html", {"changes": row.changes}).strip()
            return summary or _("No change to the published text.")
        return _("Taken off the public pages.")

    def item_link(self, item):
        kind, row = item
        if kind == "new":
            return reverse("monographs:entry_detail", args=[row.slug])
        if kind == "changed":
            return reverse("monographs:entry_compare", args=[row.slug, row.old, row.new])
        day = timezone.localdate(row.at).isoformat()
        return reverse("monographs:changes") + f"?from={day}&to={day}#withdrawn-{row.event_id}"

    def item_guid(self, item):
        kind, row = item
        return f"{settings.FORMULARY_SITE_URL}/changes/#event-{row.event_id}"

    item_guid_is_permalink = False

    def item_updateddate(self, item):
        return item[1].at

    def item_pubdate(self, item):
        return item[1].at


# Validated by the publication stamp; `?language=` names the feed's language.
changes_feed = public_cache.shared_page(params={"language"})(http_cache.stamped(ChangesFeed()))
