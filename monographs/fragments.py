"""Parts of the public pages rendered once per edition and stored in PostgreSQL (`RenderedFragment`).

An edition never changes once approved, so whatever a page shows of it alone — the entry
page's monograph, the both-languages sheet, its row in the A–Z and class lists, the heading
block of a search result — is rendered once per interface language and kept, keyed by
(edition, language, part, digest). `digest` is a hash of the templates the part is rendered
with (followed through `{% include %}`), the compiled translations, the Python that shapes the
output and Django's version: a deployment that changes any of them makes new keys, so no page
shows HTML of older templates, and the old rows only wait for `render_editions --prune`.

Filled three ways, all idempotent (INSERT … ON CONFLICT DO NOTHING, so two processes rendering
the same part at once both succeed and one row is kept):
- at publication, by the job queue (`jobs.transition_recorded` queues `tasks.render_edition` in
  the publishing transaction; the approval does not wait for the rendering);
- on the first read of a part that is missing (an edition published before this table, a new
  digest after a deployment, a job not yet run);
- by `manage.py render_editions` after a deployment, before the traffic asks.

Only live editions are rendered (`selectors.live_editions_to_render`), and a page reads a
fragment only for the edition it has just found live, so a withdrawn entry is never shown from
here. What depends on the request (the language links, the header search, the staff edit link,
"changed this quarter") stays in the page's shell. The staff preview of unpublished content
renders `monograph_html` directly and never reads or writes this table.
"""

import functools
import hashlib
import re
from pathlib import Path

import django
from django.conf import settings
from django.http import Http404
from django.template.loader import get_template, render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from . import publication, selectors
from .models import Edition, RenderedFragment

Part = RenderedFragment.Part

TEMPLATES = {
    Part.ENTRY: "monographs/_monograph.html",
    Part.BILINGUAL: "monographs/_bilingual.html",
    Part.ROW: "monographs/_edition_row.html",
    Part.RESULT: "monographs/_search_result_head.html",
}
# The Python a part's HTML depends on besides its templates: the template tags and what they
# call, how an edition is read (models.py: `Edition.from_db` cleans the fields shown, and
# `split_lines` splits the Chinese synonyms), and how the context is made here (the history's
# change summaries come from diffing).
_CODE = (
    "templatetags/formulary.py",
    "rendering.py",
    "snapshots.py",
    "vocabulary.py",
    "glossary.py",
    "packs.py",
    "text_rules.py",
    "diffing.py",
    "selectors.py",
    "fragments.py",
    "models.py",
)
_INCLUDED = re.compile(r"""{%\s*(?:include|extends)\s+["']([^"']+)["']""")
# Editions read and rendered at a time by `fill` (bounds the memory of a rebuild).
CHUNK_SIZE = 100


def languages():
    return [code for code, _name in settings.LANGUAGES]


def _template_files(name, seen):
    """The files of template `name` and of every template it includes or extends."""
    if name in seen:
        return
    seen.add(name)
    path = Path(get_template(name).origin.name)
    yield name, path
    for included in _INCLUDED.findall(path.read_text()):
        yield from _template_files(included, seen)


@functools.cache
def digest(part):
    """The digest of `part`'s templates, the translations, the code and Django's version.
    Computed once per process (the files only change with a deployment, which restarts it)."""
    hashed = hashlib.sha256(django.get_version().encode())
    for name, path in sorted(_template_files(TEMPLATES[part], set())):
        hashed.update(name.encode() + b"\x00" + path.read_bytes())
    for root in map(Path, settings.LOCALE_PATHS):
        for path in sorted(root.rglob("*.mo")):
            hashed.update(str(path.relative_to(root)).encode() + b"\x00" + path.read_bytes())
    here = Path(__file__).resolve().parent
    for name in _CODE:
        hashed.update(name.encode() + b"\x00" + (here / name).read_bytes())
    return hashed.hexdigest()[:16]


# --- Rendering (no storage): also what the staff preview uses. ---


def monograph_html(edition, history, *, bilingual_url="", preview=False, request=None):
    """The monograph part of an entry page: `history` is `selectors.edition_history(edition)`
    (newest first: this edition, then the earlier ones). The staff preview passes no
    `bilingual_url` (the both-languages view shows live editions only) and `preview`: a banner
    says it is not published, and no approver or approval date is claimed."""
    return render_to_string(
        TEMPLATES[Part.ENTRY],
        {
            "edition": edition,
            "snapshot": edition.content,
            "current": history[0],
            "earlier": history[1:],
            "bilingual_url": bilingual_url,
            "preview": preview,
        },
        request=request,
    )


def entry_page_context(request, edition, monograph):
    """The context of `monographs/entry_detail.html` around a rendered monograph part."""
    return {
        "edition": edition,
        # Our own template's output, auto-escaped when rendered; stored as text.
        "monograph": mark_safe(monograph),  # nosec B308 B703
        # The printed page's running footer. The date of printing is written by print.js,
        # so the page does not change from day to day (it is cached by its edition).
        "page_address": request.build_absolute_uri(request.path),
    }


def render(edition, part, language):
    """`part` of a live `edition` (as `selectors.live_editions_to_render` reads it) in `language`,
    rendered now: what is stored, and what the tests compare the stored HTML with."""
    with translation.override(language):
        if part == Part.ENTRY:
            # The history (reviewers, what each edition changed) is fixed while this edition is
            # live: earlier editions are immutable and a newer one would replace this page.
            return monograph_html(
                edition,
                selectors.edition_history(edition),
                bilingual_url=reverse("monographs:entry_bilingual", args=[edition.slug]),
            )
        context = {"edition": edition}
        if part == Part.BILINGUAL:
            context.update(snapshot=edition.content, entry_url=reverse("monographs:entry_detail", args=[edition.slug]))
        return render_to_string(TEMPLATES[part], context)


# --- Reading and filling the store. ---


def _stored(edition_ids, part, language):
    return dict(
        RenderedFragment.objects.filter(
            edition_id__in=edition_ids, language=language, part=part, digest=digest(part)
        ).values_list("edition_id", "html")
    )


def _store(editions, keys):
    """Render `keys` ([(part, language)]) of each of `editions` and store them (a row another
    process stored first is left as it is: the same HTML). Returns {(edition id, part, language): html}."""
    made = {
        (edition.pk, part, language): render(edition, part, language) for edition in editions for part, language in keys
    }
    RenderedFragment.objects.bulk_create(
        [
            RenderedFragment(edition_id=pk, language=language, part=part, digest=digest(part), html=html)
            for (pk, part, language), html in made.items()
        ],
        ignore_conflicts=True,
    )
    return made


def _render_and_store(edition_ids, part, language):
    """{edition id: html} of `part` in `language` for those of `edition_ids` that are live."""
    made = _store(selectors.live_editions_to_render(edition_ids), [(part, language)])
    return {pk: html for (pk, _part, _language), html in made.items()}


def html_of(edition, part):
    """The stored `part` of a live `edition` in the active language: one indexed read; rendered
    and stored first when missing. Http404 if the edition stopped being live meanwhile."""
    language = get_language()
    row = (
        RenderedFragment.objects.filter(edition_id=edition.pk, language=language, part=part, digest=digest(part))
        .order_by()
        .values_list("html", flat=True)[:1]
    )
    found = list(row)
    if found:
        html = found[0]
    else:
        html = _render_and_store([edition.pk], part, language).get(edition.pk)
        if html is None:
            raise Http404("No published entry at this address.")
    # Our own templates' output, auto-escaped when rendered; stored as text.
    return mark_safe(html)  # nosec B308 B703


def html_of_many(editions, part):
    """[(edition, html)] of `part` for the live `editions` of a list or a results page, in their
    order: one read for all of them, missing ones rendered and stored. An edition withdrawn
    since the list was read is left out."""
    language = get_language()
    editions = list(editions)
    ids = [edition.pk for edition in editions]
    found = _stored(ids, part, language)
    missing = [pk for pk in ids if pk not in found]
    if missing:
        found.update(_render_and_store(missing, part, language))
    return [(edition, mark_safe(found[edition.pk])) for edition in editions if edition.pk in found]  # nosec B308 B703


def fill(edition_ids, *, chunk_size=CHUNK_SIZE):
    """Render and store every part in every language missing for the live editions among
    `edition_ids`, a chunk at a time; yield (editions done, fragments made) after each chunk."""
    keys = [(part, language) for part in Part for language in languages()]
    done = 0
    for start in range(0, len(edition_ids), chunk_size):
        chunk = edition_ids[start : start + chunk_size]
        have = {
            (pk, part, language)
            for pk, part, language, made_with in RenderedFragment.objects.filter(
                edition_id__in=chunk, digest__in={digest(part) for part in Part}
            ).values_list("edition_id", "part", "language", "digest")
            if made_with == digest(part)
        }
        made = 0
        for edition in selectors.live_editions_to_render(
            [pk for pk in chunk if not all((pk, *key) in have for key in keys)]
        ):
            made += len(_store([edition], [key for key in keys if (edition.pk, *key) not in have]))
        done += len(chunk)
        yield done, made


def render_edition(edition_id):
    """Render and store every missing part of edition `edition_id` in every language, if it is
    live (the job queued at its publication; a withdrawn or superseded edition is left alone)."""
    return sum(made for _done, made in fill([edition_id]))


def forget_approver(user_id):
    """A reviewer's name changed (a directory sign-in or the admin): the entry part names the
    approver of every published edition of its entry (its history), so drop the stored entry
    parts of the entries they approved an edition of and move those entries' counters, so no
    cached page keeps the old name. Rendered again, with the new name, on the next read."""
    entry_ids = set(Edition.objects.filter(approved_by_id=user_id).values_list("entry_id", flat=True))
    if entry_ids:
        RenderedFragment.objects.filter(part=Part.ENTRY, edition__entry_id__in=entry_ids).delete()
        publication.entries_restated(entry_ids)


def superseded():
    """The stored fragments made with a digest other than their part's current one."""
    from django.db.models import Q

    current = Q()
    for part in Part:
        current |= Q(part=part, digest=digest(part))
    return RenderedFragment.objects.exclude(current)
