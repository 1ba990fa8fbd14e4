"""The printable booklet: the formulary, or one drug class, as a PDF made by WeasyPrint.

Rendering only. Callers (the public view, the `build_booklet` command) read live editions
through `selectors` and hand them over in chunks, in A–Z order; nothing here touches the
database. The look is `templates/monographs/booklet/` and `static/formulary/booklet.css`
(CSS paged media: named pages, running header, page numbers).

How a booklet is made (`write_booklet`), so that time and memory stay bounded:

1. Each chunk of entries is one *part*: its HTML is rendered here (Django templates, the
   active language) and laid out by WeasyPrint in a worker process (`pdf_parts`), up to
   `workers()` at a time, each written to a temporary PDF. A worker returns its page count
   and the page of each entry's anchor; only a few parts are in flight at once.
2. The parts' page counts give every entry its page number, in order. Then the cover and
   the contents (entry, leader, page number) are laid out, numbered i, ii, …
3. The page furniture of the entry pages (running header with the formulary's name, page
   numbers 1, 2, …) is laid out as separate sheets of empty pages and stamped onto the
   merged parts with pypdf, since a part does not know its first page number until the
   parts before it are laid out.

WeasyPrint is imported only in the worker, so the rest of the site runs without Pango.
"""

import multiprocessing
import os
import tempfile
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.cache import cache
from django.template.loader import render_to_string
from django.utils.text import slugify
from django.utils.translation import get_language

from . import snapshots
from .pdf_parts import exit_with_parent, render_part
from .selectors import OTHER_INITIAL
from .vocabulary import DosageForm, FormularyStatus, LegalClass, SafetyFlag, SaleRequirement

STYLESHEET = "formulary/booklet.css"
TEMPLATE = "monographs/booklet/document.html"
FURNITURE_SHEET = 500  # entry pages per sheet of page furniture


def web_max_entries():
    """The most entries a booklet may have to be made on request; larger ones are built by the command."""
    return getattr(settings, "FORMULARY_BOOKLET_WEB_MAX_ENTRIES", 200)


def part_size():
    """Entries per part: a worker holds one part's layout in memory (about 10 MB an entry)."""
    return getattr(settings, "FORMULARY_BOOKLET_PART_SIZE", 25)


def workers():
    """Worker processes laying out parts at once (default: 2, or 1 on a one-core machine)."""
    return getattr(settings, "FORMULARY_BOOKLET_WORKERS", min(2, os.cpu_count() or 1))


def cache_seconds():
    return getattr(settings, "FORMULARY_BOOKLET_CACHE_SECONDS", 7 * 24 * 60 * 60)


def cache_key(scope, language, stamp):
    """Key of a cached booklet: what it covers (`all` or `class:<slug>`), the formulary's publication
    stamp (`selectors.formulary_last_changed()`) and the language. Any publication or withdrawal
    changes the stamp, so a stale booklet is never served and nothing needs invalidating."""
    moment = f"{stamp.timestamp():.6f}" if stamp is not None else "never"
    return f"monographs:booklet:{scope}:{moment}:{language}"


BUSY_SECONDS = 30


def cached(key, make):
    """The booklet cached under `key`, else `make()`'s, cached; None while another request makes it
    (one rendering of a booklet at a time: the caller asks the visitor to come back)."""
    pdf = cache.get(key)
    if pdf is not None:
        return pdf
    if not cache.add(f"{key}:busy", True, BUSY_SECONDS * 4):
        return None
    try:
        pdf = make()
        cache.set(key, pdf, cache_seconds())
    finally:
        cache.delete(f"{key}:busy")
    return pdf


def file_name(scope_slug, language):
    """An ASCII download name, e.g. `formulary-booklet-en.pdf`."""
    parts = ["formulary-booklet", slugify(scope_slug or ""), language]
    return "-".join(p for p in parts if p) + ".pdf"


# --- What one entry shows ----------------------------------------------------------


def initial_of(name):
    first = (name or " ")[0].upper()
    return first if "A" <= first <= "Z" else OTHER_INITIAL


def strength_rows(content):
    """One row per strength of each product: the facts a dispenser checks against the pack."""
    rows = []
    for product in content.get("products", []):
        legal = snapshots.choice_label(LegalClass, product.get("legal_classification"))
        sale = snapshots.choice_label(SaleRequirement, product.get("sale_requirement"))
        status = snapshots.choice_label(FormularyStatus, product.get("formulary_status"))
        for strength in product.get("strengths", []):
            rows.append(
                {
                    "product": product.get("name", ""),
                    "strength": snapshots.strength_text(strength),
                    "form": snapshots.choice_label(DosageForm, strength.get("dosage_form")),
                    "appearance": strength.get("appearance") or "",
                    "pack": strength.get("pack_size") or "",
                    "registration_number": strength.get("registration_number") or "",
                    "formulary_status": status,
                    "legal_class": legal,
                    "sale_requirement": sale,
                }
            )
    return rows


def entry_context(edition):
    """What the entry template needs from one live edition (its snapshot, read with `snapshots`)."""
    content = edition.content
    return {
        "anchor": f"entry-{edition.slug}",
        "generic_name": content.get("generic_name") or edition.generic_name,
        "chinese_name": content.get("chinese_name") or "",
        "drug_class": content.get("drug_class") or "",
        "atc_code": content.get("atc_code") or "",
        "brand_names": snapshots.brand_names(content),
        "badges": [snapshots.choice_label(SafetyFlag, flag) for flag in snapshots.safety_flags(content)],
        "boxed_warning": content.get("boxed_warning") or "",
        "rows": strength_rows(content),
        "sections": [{"title": snapshots.section_title(s), "body": s.get("body", "")} for s in content["sections"]],
        "approved_at": edition.approved_at,
        "edition_number": edition.number,
        "initial": initial_of(content.get("generic_name") or edition.generic_name),
    }


def _with_letter_headings(entries, previous_initial=None):
    """Mark the entries that open a new letter of the A–Z order."""
    for entry in entries:
        entry["letter_heading"] = entry["initial"] if entry["initial"] != previous_initial else ""
        previous_initial = entry["initial"]
    return entries


@dataclass
class Booklet:
    """What the cover says: the title (a drug class, or none for the whole formulary),
    the publication stamp it shows as the edition date, and how many entries it holds."""

    drug_class: str
    stamp: object
    count: int


# --- Making the PDF --------------------------------------------------------------------


def _html(booklet, **context):
    return render_to_string(TEMPLATE, {"language": get_language(), "booklet": booklet, **context})


def _pool(count):
    if count <= 1:
        return ThreadPoolExecutor(max_workers=1)
    # "spawn": a fresh interpreter, never a fork of a process holding database connections and threads.
    return ProcessPoolExecutor(
        max_workers=count,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=exit_with_parent,
        initargs=(os.getpid(),),
    )


@dataclass
class _Part:
    path: Path
    future: object
    toc: list
    pages: int = 0


def write_booklet(booklet, chunks, out, *, worker_count=None, progress=None):
    """Build the booklet from `chunks` (lists of live editions, A–Z) into the file `out`.

    Returns (number of entry pages, number of parts). `progress(message)` is called as parts finish.
    """
    from pypdf import PdfReader, PdfWriter

    report = progress or (lambda message: None)
    started = time.monotonic()
    css = [Path(finders.find(STYLESHEET)).read_text(encoding="utf-8")]
    worker_count = worker_count or workers()
    with tempfile.TemporaryDirectory(prefix="booklet-") as tmp, _pool(worker_count) as pool:
        tmp = Path(tmp)
        parts, in_flight, previous_initial, done = [], deque(), None, 0
        for number, chunk in enumerate(chunks, start=1):
            entries = _with_letter_headings([entry_context(e) for e in chunk], previous_initial)
            previous_initial = entries[-1]["initial"]
            path = tmp / f"part-{number:05d}.pdf"
            future = pool.submit(render_part, _html(booklet, entries=entries), css, str(path))
            toc = [
                {key: entry[key] for key in ("anchor", "generic_name", "chinese_name", "letter_heading")}
                for entry in entries
            ]
            parts.append(_Part(path=path, future=future, toc=toc))
            in_flight.append(future)
            # Only a few parts at a time: each holds its whole layout until written.
            while len(in_flight) >= 2 * worker_count:
                finished, _pending = wait(in_flight, return_when=FIRST_COMPLETED)
                for f in finished:
                    in_flight.remove(f)
                    done += 1
                report(f"{done} parts laid out ({len(parts)} started), {time.monotonic() - started:.1f} s")

        # Page numbers: each part starts where the one before it ended.
        toc, first_page = [], 1
        for part in parts:
            part.pages, anchors = part.future.result()
            for item in part.toc:
                toc.append({**item, "page": first_page + anchors.get(item["anchor"], 0)})
            first_page += part.pages
        entry_pages = first_page - 1
        report(f"{len(parts)} parts laid out: {entry_pages} entry pages, {time.monotonic() - started:.1f} s")

        front_path = tmp / "front.pdf"
        front = pool.submit(render_part, _html(booklet, front=True, toc=toc), css, str(front_path))
        sheets = []
        for start in range(1, entry_pages + 1, FURNITURE_SHEET):
            count = min(FURNITURE_SHEET, entry_pages - start + 1)
            path = tmp / f"furniture-{start:06d}.pdf"
            numbering = f"@page :first {{ counter-reset: page {start}; }}"
            sheets.append(
                (path, pool.submit(render_part, _html(booklet, furniture=range(count)), css + [numbering], str(path)))
            )
        front.result()
        for _path, future in sheets:
            future.result()
        report(f"cover, contents and page numbers laid out, {time.monotonic() - started:.1f} s; merging")

        writer = PdfWriter()
        writer.append(str(front_path))
        front_pages = len(writer.pages)
        for part in parts:
            writer.append(str(part.path))
        page_index = front_pages
        for path, _future in sheets:
            for sheet_page in PdfReader(str(path)).pages:
                page = writer.pages[page_index]
                page.merge_page(sheet_page)
                # Merging leaves the page's content uncompressed: four times the file and the memory.
                page.compress_content_streams()
                page_index += 1
        writer.write(str(out))
        writer.close()
    report(f"wrote {front_pages + entry_pages} pages, {time.monotonic() - started:.1f} s")
    return entry_pages, len(parts)


def booklet_pdf(booklet, chunks, *, worker_count=None):
    """The booklet as bytes (see `write_booklet`)."""
    with tempfile.TemporaryDirectory(prefix="booklet-") as tmp:
        out = Path(tmp) / "booklet.pdf"
        write_booklet(booklet, chunks, out, worker_count=worker_count)
        return out.read_bytes()
