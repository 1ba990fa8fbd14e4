"""Public formulary pages: thin views over `selectors` (live editions only) and `search`.

Nothing here reads Entry, Section, Product or Strength: what the public sees is
always an approved edition, so drafts, never-published and withdrawn entries
are 404 and their text cannot reach a page or a search result.
"""

import string
from urllib.parse import quote, urlencode

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.http import http_date
from django.utils.text import slugify
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from . import booklet as booklet_module
from . import booklet_store, fragments, http_cache, jobs, periods, public_cache, selectors, workflow
from . import search as search_module
from .throttling import SearchRateThrottle
from .vocabulary import FormularyStatus

LETTERS = [*string.ascii_uppercase, selectors.OTHER_INITIAL]
ENTRY_CACHE_SECONDS = 24 * 60 * 60


def page_size():
    return settings.FORMULARY_PUBLIC_PAGE_SIZE


def _page(request, items):
    page_obj = Paginator(items, page_size()).get_page(request.GET.get("page"))
    if "page" in request.GET and request.GET["page"] != str(page_obj.number):
        # Answered with the nearest page, but not kept: `?page=<anything>` must not fill Redis.
        public_cache.not_shared(request)
    return page_obj


def _az_strip(request):
    # Which letters have entries changes only when something is published or withdrawn, and
    # finding out reads every live edition (~60 ms at 20,000 entries): kept per publication stamp.
    key = f"monographs:initials:{http_cache.request_stamp(request)}"
    present = cache.get(key)
    if present is None:
        present = selectors.live_initials()
        cache.set(key, present, ENTRY_CACHE_SECONDS)
    return [(letter, letter in present) for letter in LETTERS]


@public_cache.shared_page()
@http_cache.stamped
def home(request):
    return render(
        request,
        "monographs/home.html",
        {"az_strip": _az_strip(request), "drug_classes": _drug_classes_with_slugs()},
    )


# --- Lists (A–Z, a drug class): narrowed by formulary status and to this quarter's changes ---
CHANGED_THIS_QUARTER = "quarter"


def _list_filters(request):
    """(status, changed) of a list's filter parameters: `status` one of selectors.LIST_STATUSES
    and `changed` "quarter", each "" when absent. Any other value is ignored (the whole list is
    shown) and the page is not kept in the shared cache, so `?status=<anything>` cannot fill it."""
    status = request.GET.get("status", "")
    changed = request.GET.get("changed", "")
    if status not in selectors.LIST_STATUSES:
        if "status" in request.GET:
            public_cache.not_shared(request)
        status = ""
    if changed != CHANGED_THIS_QUARTER:
        if "changed" in request.GET:
            public_cache.not_shared(request)
        changed = ""
    return status, changed


def _filter_links(path, base, status, changed):
    """The filter bar's links: [(label, address, current)] per status (and "all"), and the
    "changed this quarter" switch; every address keeps the list's other parameters."""

    def address(**chosen):
        query = urlencode([(key, value) for key, value in {**base, **chosen}.items() if value])
        return f"{path}?{query}" if query else path

    statuses = [(_("All"), address(status="", changed=changed), not status)] + [
        (FormularyStatus(code).label, address(status=code, changed=changed), status == code)
        for code in selectors.LIST_STATUSES
    ]
    changes = [
        (_("All entries"), address(status=status, changed=""), not changed),
        (_("Changed this quarter"), address(status=status, changed=CHANGED_THIS_QUARTER), bool(changed)),
    ]
    return {"statuses": statuses, "changes": changes}


def _filtered_list(request, editions, base):
    """The context a list page adds for its filters: the page of `editions` narrowed by the
    request's filters, the filter links, the prefix the pagination links carry, and the start of
    this quarter (entries that went live since are marked)."""
    status, changed = _list_filters(request)
    quarter_start, _end = periods.this_quarter_so_far().moments()
    editions = selectors.filter_listed(
        editions, status=status or None, changed_since=quarter_start if changed else None
    )
    chosen = {**base, "status": status, "changed": changed}
    prefix = urlencode([(key, value) for key, value in chosen.items() if value])
    page_obj = _page(request, editions)
    return {
        "page_obj": page_obj,
        # Each row's edition part as stored (`fragments`); the "changed" mark is added per request.
        "rows": fragments.html_of_many(page_obj.object_list, fragments.Part.ROW),
        "filters": _filter_links(request.path, base, status, changed),
        "filtered": bool(status or changed),
        "changed_since": quarter_start,
        "query_prefix": prefix + "&" if prefix else "",
    }


@public_cache.shared_page(params={"letter", "status", "changed", "page"})
@http_cache.stamped
def entry_list(request):
    letter = request.GET.get("letter", "").upper()
    if letter in LETTERS:
        editions = selectors.live_editions_with_initial(letter)
    else:
        letter = ""
        editions = selectors.live_editions_by_name()
    az_strip = _az_strip(request)
    if "letter" in request.GET and ((letter, True) not in az_strip or request.GET["letter"] != letter):
        public_cache.not_shared(request)  # a letter with no entries, or not as the A–Z links write it
    return render(
        request,
        "monographs/entry_list.html",
        {
            "letter": letter,
            "az_strip": az_strip,
            **_filtered_list(request, editions, {"letter": letter}),
        },
    )


def class_slug(drug_class):
    return slugify(drug_class, allow_unicode=True)


def _drug_classes_with_slugs():
    """[(name in the page's language, slug, count)] of the class pages."""
    chinese = (get_language() or "").lower() == "zh-hant"
    return [
        ((row.name_zh if chinese and row.name_zh else row.name), row.slug, row.count)
        for row in selectors.live_drug_class_rows()
    ]


@public_cache.shared_page()
@http_cache.stamped
def drug_class_list(request):
    return render(request, "monographs/class_list.html", {"drug_classes": _drug_classes_with_slugs()})


def _drug_class_row(slug):
    rows = [row for row in selectors.live_drug_class_rows() if row.slug == slug]
    if not rows:
        raise Http404("No published entry in this drug class.")
    return rows[0]


def _drug_class_named(slug):
    return _drug_class_row(slug).name


@public_cache.shared_page(params={"status", "changed", "page"})
@http_cache.stamped
def drug_class_detail(request, slug):
    row = _drug_class_row(slug)
    chinese = (get_language() or "").lower() == "zh-hant"
    return render(
        request,
        "monographs/class_detail.html",
        {
            "drug_class": row.name_zh if chinese and row.name_zh else row.name,
            "slug": slug,
            **_filtered_list(request, selectors.live_editions_in_class(slug), {}),
        },
    )


def _entry_page(request, edition):
    # The monograph was rendered once for this edition and language (at publication, or by the
    # first read): one indexed read, and the small shell around it is all that is rendered here.
    monograph = fragments.html_of(edition, fragments.Part.ENTRY)
    return render(request, "monographs/entry_detail.html", fragments.entry_page_context(request, edition, monograph))


@public_cache.shared_page(entry="slug")
def entry_detail(request, slug):
    edition = selectors.live_edition_for_slug(slug)
    etag, last_modified = http_cache.edition_validators(edition)
    return http_cache.conditional_response(
        request, etag=etag, last_modified=last_modified, render=lambda: _entry_page(request, edition)
    )


def _bilingual_page(request, edition):
    """The live edition with each section in English and Traditional Chinese side by side, and
    how far each translation is up to date: the sheet printed for the counter. Stored like the
    entry page's monograph, per edition and interface language (the labels and notices are in the latter)."""
    sheet = fragments.html_of(edition, fragments.Part.BILINGUAL)
    return render(request, "monographs/entry_bilingual.html", fragments.entry_page_context(request, edition, sheet))


@public_cache.shared_page(entry="slug")
def entry_bilingual(request, slug):
    edition = selectors.live_edition_for_slug(slug)
    etag, last_modified = http_cache.edition_validators(edition, variant="bilingual")
    return http_cache.conditional_response(
        request, etag=etag, last_modified=last_modified, render=lambda: _bilingual_page(request, edition)
    )


def search_refusal(request):
    """The 429 page when this address has used up its searches, else None; counts the search.

    Searching is the one public page whose cost the visitor chooses, so each address
    gets FORMULARY_SEARCH_THROTTLE_RATE searches (the empty form is free). Run before
    anything else, a shared-cache hit and a 304 included: every search is counted.
    """
    if not search_module.clean_query(request.GET.get("q", "")):
        return None
    throttle = SearchRateThrottle()
    if throttle.allow_request(request, None):
        return None
    wait = int((throttle.wait() or 1) + 0.999)
    response = render(request, "monographs/search_throttled.html", {"wait": wait}, status=429)
    response["Retry-After"] = str(wait)
    return response


# The shared page cache runs the refusal before serving a stored search, so every search is counted.
@public_cache.shared_page(params={"q", "page"}, guard=search_refusal)
def search(request):
    return search_refusal(request) or _search_page(request)


@http_cache.stamped
def _search_page(request):
    query = search_module.clean_query(request.GET.get("q", ""))
    if query and (
        (registered := search_module.registered_strength(query) or search_module.marked_strength(query)) is not None
    ):
        # The number on the box, or the marking on a capsule: straight to that strength on its
        # entry page (which keeps the entry's name and badges in view above it).
        edition, _product, strength = registered
        return redirect(f"{reverse('monographs:entry_detail', args=[edition.slug])}#strength-{strength['id']}")
    found = search_module.search(query) if query else search_module.Results()
    page_obj = _page(request, found) if query else None
    if page_obj is not None and (request.GET.get("q") != query or not _names_a_result(query, page_obj.object_list)):
        # Only a search for what a result is called (its name, a brand, its class) is kept; any
        # other text is answered, not stored, so random queries cannot fill the shared cache.
        public_cache.not_shared(request)
    results = []
    if page_obj is not None:
        # Why each result matched, for the results on this page only.
        matched = search_module.match_fragments(query, page_obj.object_list)
        heads = fragments.html_of_many(page_obj.object_list, fragments.Part.RESULT)
        results = [(edition, matched.get(edition.pk), head) for edition, head in heads]
    return render(
        request,
        "monographs/search.html",
        {
            "query": query,
            "page_obj": page_obj,
            "results": results,
            # A common word: only the best candidates were ranked (search.MAX_RESULTS and the
            # candidate limits); the page says so and asks for a narrower search.
            "capped": found.capped,
            "query_prefix": urlencode({"q": query}) + "&",
        },
    )


def _names_a_result(query, editions):
    """Whether `query` is, ignoring case, the generic name, a brand name or the class of one of
    `editions` (the results shown): a search worth keeping in the shared cache."""
    names = set()
    for edition in editions:
        names.update([edition.generic_name, edition.drug_class or "", *(edition.brand_names or [])])
    # As written, or all lower-case (what people type): not every mix of cases, each a copy.
    return query in names or query in {name.lower() for name in names}


def _requested_period(request):
    """(period, error message): the period of `from`/`to` (ISO dates, both included), by default
    this quarter so far in Hong Kong time; on bad input the default period and the message."""
    default = periods.this_quarter_so_far()
    raw_from, raw_to = request.GET.get("from"), request.GET.get("to")
    try:
        first = periods.parse_date(raw_from, _("From")) if raw_from else default.first
        last = periods.parse_date(raw_to, _("To")) if raw_to else max(default.last, first)
        return periods.make_period(first, last), ""
    except periods.PeriodError as error:
        return default, str(error)


def _within_history(period):
    """Whether `period` lies within the formulary's history (from its first publication to today)."""
    first = selectors.first_publication_day()
    return first is not None and first <= period.first and period.last <= timezone.localdate()


@public_cache.shared_page(params={"from", "to"})
@http_cache.stamped
def changes(request):
    period, error = _requested_period(request)
    if ("from" in request.GET or "to" in request.GET) and not _within_history(period):
        public_cache.not_shared(request)
    start, end = period.moments()
    return render(
        request,
        "monographs/changes.html",
        {
            "period": period,
            "error": error,
            "changes": selectors.changes_between(start, end),
            "max_rows": selectors.CHANGES_MAX_ROWS,
        },
        status=400 if error else 200,
    )


@public_cache.shared_page(entry="slug")
@http_cache.stamped
def entry_compare(request, slug, old, new):
    comparison = selectors.public_comparison(slug, old, new)
    return render(request, "monographs/entry_compare.html", {"comparison": comparison})


def edit_link(request, entry_id):
    """The admin address to edit an entry, for a signed-in editor; 204 for anyone else.

    Asked by the public entry page's script (static/formulary/edit-link.js) only when the
    editor marker cookie is present, so the entry page itself stays the same for everyone.
    Never cached: the answer depends on who asks.
    """
    user = request.user
    if user.is_authenticated and user.is_staff and workflow.can_edit(user, None):
        response = JsonResponse({"url": reverse("admin:monographs_entry_change", args=[entry_id])})
    else:
        response = HttpResponse(status=204)
    add_never_cache_headers(response)
    return response


# --- The printable booklet (monographs/booklet.py renders it) ---------------------------


@public_cache.not_shared_page
def booklet(request, slug=None):
    """The formulary, or one drug class, as a PDF in the interface language: streamed from the
    booklets the job queue's worker built (`booklet_store`); never laid out here."""
    drug_class = _drug_class_named(slug) if slug is not None else booklet_store.ALL
    language = get_language()
    choice = booklet_store.choose(drug_class, language)
    if not choice.exists:
        raise Http404("No published entry.")
    if choice.built is None or not choice.current:
        # A rebuild is normally queued by the publication itself; queue one in case this
        # booklet was never built (a new install) or a worker lost it. Waiting ones coalesce.
        jobs.queue_booklet(drug_class, language)
    if choice.built is None:
        wait = booklet_store.RETRY_AFTER_SECONDS
        response = render(request, "monographs/booklet/busy.html", {"wait": wait}, status=503)
        response["Retry-After"] = str(wait)
        add_never_cache_headers(response)
        return response
    built = choice.built
    response = StreamingHttpResponse(booklet_store.stream(built), content_type="application/pdf")
    response["Content-Length"] = str(built.size)
    response["Content-Disposition"] = f'inline; filename="{booklet_module.file_name(slug, language)}"'
    response["Last-Modified"] = http_date(built.built_at.timestamp())
    if not choice.current:
        # An older file while the rebuild runs: its date and what changed since, for the reader
        # (and any script) to see; no cache may keep it.
        response["X-Booklet-Built"] = built.built_at.isoformat()
        response["X-Booklet-Changed-Since"] = quote(", ".join(choice.changed_since)[:2000], safe=" ,")
        add_never_cache_headers(response)
    return response
