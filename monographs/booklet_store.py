"""Built booklets: what the web serves, and the worker's job of building them.

No web request lays out a PDF. The job queue's worker (`tasks.build_booklet`) calls `build`,
which lays the booklet out with `booklet.write_booklet` and stores it as a `BuiltBooklet` in
PostgreSQL, so every app server streams the same file. Requests call `choose` and get one of:

- the file of the current content (its `content_key` matches what is live now);
- while a rebuild after a content change is pending, the newest earlier file, *if* every entry
  in it is still on the public pages: it is marked with its date and the entries changed since;
- nothing, when none was built yet or the newest file holds a withdrawn entry (a withdrawal
  is a recall: that file must never be served again); the page then says it is being prepared.

A booklet's key is a digest of its scope, language, template files and the (entry, live
edition) pairs it holds, so a publication elsewhere in the formulary leaves a class booklet
valid, and two servers asking for the same booklet find the one file built for it.
Laid-out parts are kept too (`BookletPart`, keyed by their HTML), so a rebuild after one
publication lays out only the parts of that entry's letter, plus the cover and contents.
"""

import datetime
import functools
import hashlib
import json
import logging
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.db import IntegrityError, transaction
from django.db.models.functions import Substr
from django.template.loader import get_template
from django.utils import timezone, translation

from . import booklet, selectors
from .models import BookletPart, BuiltBooklet

logger = logging.getLogger(__name__)
ALL = ""  # the drug class of the whole formulary's booklet
STREAM_CHUNK = 1024 * 1024
RETRY_AFTER_SECONDS = 30


def languages():
    return [code for code, _name in settings.LANGUAGES]


@functools.cache
def template_digest():
    """Digest of the booklet's templates and stylesheet: a new look makes every booklet stale."""
    digest = hashlib.sha256()
    names = ["document.html", "_cover.html", "_contents.html", "_entry.html"]
    for name in names:
        digest.update(Path(get_template(f"monographs/booklet/{name}").origin.name).read_bytes())
    digest.update(Path(finders.find(booklet.STYLESHEET)).read_bytes())
    return digest.hexdigest()


def content_key(drug_class, language, contents):
    # Sorted: the same entries and editions make the same key in whatever order they were read.
    payload = json.dumps([drug_class, language, template_digest(), sorted(list(pair) for pair in contents)])
    return hashlib.sha256(payload.encode()).hexdigest()


@dataclass
class Choice:
    """What a request for a booklet gets: `built` (None: being prepared), and for an older file
    the names of the entries changed since it was built."""

    built: object = None
    current: bool = False
    changed_since: list = field(default_factory=list)
    exists: bool = True  # False: no published entry in that scope


def choose(drug_class, language):
    """The built booklet a request for (`drug_class` or ALL, `language`) may be served; see the module."""
    contents = selectors.live_booklet_contents(drug_class or None)
    if not contents:
        return Choice(exists=False)
    key = content_key(drug_class, language, contents)
    newest = (
        BuiltBooklet.objects.filter(drug_class=drug_class, language=language).defer("pdf").order_by("-built_at").first()
    )
    if newest is None:
        return Choice()
    if newest.content_key == key:
        return Choice(built=newest, current=True)
    held = {entry_id for entry_id, _edition_id in newest.entries}
    read_at = newest.built_at - datetime.timedelta(seconds=newest.build_seconds)
    if held - selectors.live_entry_ids(held) or selectors.withdrawn_since(held, read_at):
        # It holds an entry withdrawn since it was read (a recall): never again, even if the
        # entry was published again meanwhile — the file holds the recalled text.
        return Choice()
    before = {tuple(pair) for pair in newest.entries}
    changed = [edition_id for entry_id, edition_id in contents if (entry_id, edition_id) not in before]
    names = selectors.live_names_of_editions(changed)
    return Choice(built=newest, changed_since=sorted(names.values(), key=str.casefold))


def stream(built):
    """The PDF of `built` in pieces of STREAM_CHUNK, read from PostgreSQL piece by piece, so a
    whole-formulary booklet of many megabytes is never held whole in a web worker."""
    for start in range(1, built.size + 1, STREAM_CHUNK):
        piece = (
            BuiltBooklet.objects.filter(pk=built.pk)
            .annotate(piece=Substr("pdf", start, STREAM_CHUNK))
            .values_list("piece", flat=True)
            .first()
        )
        if piece is None:  # replaced by a newer build meanwhile
            return
        yield bytes(piece)


class _DatabaseParts:
    """The parts cache `booklet.write_booklet` asks: laid-out parts in `BookletPart`."""

    def __init__(self):
        self.reused = 0
        self.laid_out = 0

    def get(self, key):
        part = BookletPart.objects.filter(key=key).first()
        if part is None:
            return None
        self.reused += 1
        BookletPart.objects.filter(pk=part.pk).update(used_at=timezone.now())
        return part.pages, part.anchors, bytes(part.pdf)

    def put(self, key, pages, anchors, path):
        self.laid_out += 1
        BookletPart.objects.update_or_create(
            key=key, defaults={"pages": pages, "anchors": anchors, "pdf": Path(path).read_bytes()}
        )


def build(drug_class, language, *, worker_count=None):
    """Build and store the booklet of what is live now, unless it is built already.

    Idempotent: run twice, or by two workers, or again after a worker died mid-build, it stores
    one file per content (the unique constraint decides a race). Returns the BuiltBooklet, or
    None when the scope has no published entry. Older files of the scope are deleted once the
    new one is stored."""
    contents = selectors.live_booklet_contents(drug_class or None)
    if not contents:
        BuiltBooklet.objects.filter(drug_class=drug_class, language=language).delete()
        return None
    key = content_key(drug_class, language, contents)
    done = BuiltBooklet.objects.filter(drug_class=drug_class, language=language, content_key=key).defer("pdf").first()
    if done is not None:
        return done
    started = time.monotonic()
    stamp = selectors.formulary_last_changed()
    parts = _DatabaseParts()
    with tempfile.TemporaryDirectory(prefix="booklet-") as tmp, translation.override(language):
        out = Path(tmp) / "booklet.pdf"
        laid_out = []  # (entry, edition) of every edition actually read for the layout

        def recorded(chunks):
            for chunk in chunks:
                laid_out.extend((edition.entry_id, edition.pk) for edition in chunk)
                yield chunk

        chunks = recorded(
            selectors.live_editions_in_chunks(drug_class=drug_class or None, chunk_size=booklet.part_size())
        )
        booklet.write_booklet(
            booklet.Booklet(
                drug_class=drug_class,
                stamp=stamp,
                count=len(contents),
                drug_class_zh=selectors.live_class_chinese_name(drug_class) if drug_class else "",
            ),
            booklet.by_letter(chunks, booklet.part_size()),
            out,
            worker_count=worker_count,
            parts=parts,
        )
        pdf = out.read_bytes()
    # Keyed and labelled by what was laid out, not by what was read first: a publication
    # committed between the two reads is in the file, so its entry must be in `entries` (or a
    # withdrawal of it afterwards would not stop the file being served), and the next build
    # after any change must not find this file under the new content's key.
    contents = laid_out
    key = content_key(drug_class, language, contents)
    seconds = time.monotonic() - started
    try:
        with transaction.atomic():
            built = BuiltBooklet.objects.create(
                drug_class=drug_class,
                language=language,
                content_key=key,
                entries=[list(pair) for pair in contents],
                stamp=stamp,
                build_seconds=seconds,
                size=len(pdf),
                pdf=pdf,
            )
            BuiltBooklet.objects.filter(drug_class=drug_class, language=language).exclude(pk=built.pk).delete()
    except IntegrityError:
        return BuiltBooklet.objects.defer("pdf").get(drug_class=drug_class, language=language, content_key=key)
    logger.info(
        "built booklet %r (%s): %d entries, %d bytes, %.1f s, %d parts laid out, %d reused",
        drug_class or "all",
        language,
        len(contents),
        len(pdf),
        seconds,
        parts.laid_out,
        parts.reused,
    )
    return built
