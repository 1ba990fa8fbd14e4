"""Public formulary pages: thin views over `selectors` (live editions only) and `search`.

Nothing here reads Entry, Section, Product or Strength: what the public sees is
always an approved edition, so drafts, never-published and withdrawn entries
are 404 and their text cannot reach a page or a search result.
"""

import string
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.text import slugify
from django.utils.translation import get_language

from . import booklet as booklet_module
from . import search as search_module
from . import selectors
from .api.throttling import SearchRateThrottle

LETTERS = [*string.ascii_uppercase, selectors.OTHER_INITIAL]
ENTRY_CACHE_SECONDS = 24 * 60 * 60


def page_size():
    return getattr(settings, "FORMULARY_PUBLIC_PAGE_SIZE", 50)


def _page(request, items):
    return Paginator(items, page_size()).get_page(request.GET.get("page"))


def _az_strip():
    present = selectors.live_initials()
    return [(letter, letter in present) for letter in LETTERS]


def home(request):
    return render(
        request,
        "monographs/home.html",
        {"az_strip": _az_strip(), "drug_classes": selectors.live_drug_classes()},
    )


def entry_list(request):
    letter = request.GET.get("letter", "").upper()
    if letter in LETTERS:
        editions = selectors.live_editions_with_initial(letter)
    else:
        letter = ""
        editions = selectors.live_editions_by_name()
    return render(
        request,
        "monographs/entry_list.html",
        {
            "page_obj": _page(request, editions),
            "letter": letter,
            "az_strip": _az_strip(),
            "query_prefix": urlencode({"letter": letter}) + "&" if letter else "",
        },
    )


def class_slug(drug_class):
    return slugify(drug_class, allow_unicode=True)


def drug_class_list(request):
    classes = [(name, class_slug(name), count) for name, count in selectors.live_drug_classes()]
    return render(request, "monographs/class_list.html", {"drug_classes": classes})


def _drug_class_named(slug):
    names = [name for name, _count in selectors.live_drug_classes() if class_slug(name) == slug]
    if not names:
        raise Http404("No published entry in this drug class.")
    return names[0]


def drug_class_detail(request, slug):
    drug_class = _drug_class_named(slug)
    return render(
        request,
        "monographs/class_detail.html",
        {
            "drug_class": drug_class,
            "slug": slug,
            "page_obj": _page(request, selectors.live_editions_in_class(drug_class)),
        },
    )


def entry_cache_key(edition, language):
    """Key of an entry page's monograph part. It names the live edition itself (and when it was
    approved, in case a development database reuses ids), so publishing a new edition or
    withdrawing the entry is seen at once: the page looks up the live edition on every request."""
    return f"monographs:entry:{edition.pk}:{edition.approved_at.timestamp()}:{language}"


def entry_detail(request, slug):
    edition = selectors.live_edition_for_slug(slug)
    key = entry_cache_key(edition, get_language())
    monograph = cache.get(key)
    if monograph is None:
        monograph = render_to_string(
            "monographs/_monograph.html", {"edition": edition, "entry": edition.content}, request=request
        )
        cache.set(key, monograph, ENTRY_CACHE_SECONDS)
    return render(
        request,
        "monographs/entry_detail.html",
        # Our own template's output, auto-escaped when rendered; the cache keeps it as text.
        {"edition": edition, "monograph": mark_safe(monograph)},  # nosec B308 B703
    )


def search(request):
    raw = request.GET.get("q", "")
    query = search_module.clean_query(raw)
    # Searching is the one public page whose cost the visitor chooses, so each address
    # gets FORMULARY_SEARCH_THROTTLE_RATE searches (the empty form is free).
    throttle = SearchRateThrottle()
    if query and not throttle.allow_request(request, None):
        wait = int((throttle.wait() or 1) + 0.999)
        response = render(request, "monographs/search_throttled.html", {"wait": wait}, status=429)
        response["Retry-After"] = str(wait)
        return response
    results = search_module.search(query) if query else []
    return render(
        request,
        "monographs/search.html",
        {
            "query": query,
            "page_obj": _page(request, results) if query else None,
            "query_prefix": urlencode({"q": query}) + "&",
        },
    )


# --- The printable booklet (monographs/booklet.py renders it) ---------------------------


def booklet(request, slug=None):
    """The formulary, or one drug class, as a PDF in the interface language; cached per publication stamp."""
    drug_class = _drug_class_named(slug) if slug is not None else None
    # The stamp is read first: a publication after it only makes the next request render again.
    stamp = selectors.formulary_last_changed()
    count = selectors.live_edition_count(drug_class)
    if not count:
        raise Http404("No published entry.")
    if count > booklet_module.web_max_entries():
        # Bounded costs: a visitor cannot make the server lay out thousands of pages on demand.
        return render(
            request,
            "monographs/booklet/too_large.html",
            {"drug_class": drug_class, "count": count, "limit": booklet_module.web_max_entries()},
            status=413,
        )
    language = get_language()
    key = booklet_module.cache_key(f"class:{slug}" if slug is not None else "all", language, stamp)
    pdf = booklet_module.cached(
        key,
        lambda: booklet_module.booklet_pdf(
            booklet_module.Booklet(drug_class=drug_class or "", stamp=stamp, count=count),
            selectors.live_editions_in_chunks(drug_class=drug_class, chunk_size=booklet_module.part_size()),
        ),
    )
    if pdf is None:
        wait = booklet_module.BUSY_SECONDS
        response = render(request, "monographs/booklet/busy.html", {"wait": wait}, status=503)
        response["Retry-After"] = str(wait)
        return response
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{booklet_module.file_name(slug, language)}"'
    return response
