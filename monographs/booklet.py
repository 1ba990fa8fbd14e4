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

import hashlib
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
from django.template.loader import render_to_string
from django.utils.text import slugify
from django.utils.translation import get_language

from . import packs, snapshots
from .models import TranslationStatus
from .pdf_parts import exit_with_parent, render_part
from .selectors import OTHER_INITIAL
from .vocabulary import DosageForm, FormularyStatus, LegalClass, SafetyFlag, SaleRequirement

STYLESHEET = "formulary/booklet.css"
TEMPLATE = "monographs/booklet/document.html"
FURNITURE_SHEET = 500  # entry pages per sheet of page furniture


def part_size():
    """Entries per part: a worker holds one part's layout in memory (about 10 MB an entry)."""
    return settings.FORMULARY_BOOKLET_PART_SIZE


def workers():
    """Worker processes laying out parts at once (default: 2, or 1 on a one-core machine)."""
    return settings.FORMULARY_BOOKLET_WORKERS


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
                    "pack": packs.pack_label(strength),
                    "pack_is_text": packs.pack_is_english_text(strength),
                    "registration_number": strength.get("registration_number") or "",
                    "formulary_status": status,
                    "legal_class": legal,
                    "sale_requirement": sale,
                }
            )
    return rows


def _chinese():
    return (get_language() or "").lower().startswith("zh")


def _boxed_warning(content):
    """The boxed warning as the page shows it in the interface language: {text, lang, status,
    english}; a Chinese booklet prints the Chinese where it is up to date, the Chinese with a
    notice and the English where it is outdated, and the English, labelled, where it is missing."""
    english = content.get("boxed_warning") or ""
    if not english or not _chinese():
        return {"text": english, "lang": "", "status": "", "english": ""}
    status = snapshots.boxed_warning_translation(content)
    if status == TranslationStatus.MISSING:
        return {"text": english, "lang": "en", "status": str(status.value), "english": ""}
    return {
        "text": content.get("boxed_warning_zh") or "",
        "lang": "",
        "status": str(status.value),
        "english": english if status == TranslationStatus.STALE else "",
    }


def _section(section):
    """A section in the interface language, by the same rules as the boxed warning."""
    if not _chinese():
        return {"title": snapshots.section_title(section), "title_lang": "", "body": section.get("body", "")}
    status = snapshots.section_translation(section)
    heading = (section.get("heading_zh") or "").strip()
    title, title_lang = heading, ""
    if not heading:
        title = snapshots.section_title(section)
        title_lang = "en" if (section.get("heading") or "").strip() else ""
    if status == TranslationStatus.MISSING:
        return {
            "title": title,
            "title_lang": title_lang,
            "body": section.get("body", ""),
            "lang": "en",
            "status": str(status.value),
        }
    return {
        "title": title,
        "title_lang": title_lang,
        "body": section.get("body_zh", ""),
        "lang": "",
        "status": str(status.value),
        "english": section.get("body", "") if status == TranslationStatus.STALE else "",
    }


def entry_context(edition):
    """What the entry template needs from one live edition (its snapshot, read with `snapshots`),
    in the interface language (see `_boxed_warning`)."""
    content = edition.content
    drug_class, class_in_english = snapshots.drug_class_name(content)
    return {
        "anchor": f"entry-{edition.slug}",
        "generic_name": content.get("generic_name") or edition.generic_name,
        "chinese_name": content.get("chinese_name") or "",
        "drug_class": drug_class,
        "drug_class_lang": "en" if class_in_english and _chinese() else "",
        "atc_code": content.get("atc_code") or "",
        "brand_names": snapshots.brand_names(content),
        "badges": [snapshots.choice_label(SafetyFlag, flag) for flag in snapshots.safety_flags(content)],
        "boxed_warning": _boxed_warning(content),
        "rows": strength_rows(content),
        "sections": [_section(s) for s in content["sections"]],
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
    # The class's Chinese name, printed on the cover and header of a Chinese booklet.
    drug_class_zh: str = ""

    @property
    def title(self):
        """(the class's name in the interface language, whether it is English)."""
        if _chinese() and self.drug_class_zh:
            return self.drug_class_zh, False
        return self.drug_class, True


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


def by_letter(chunks, size):
    """Regroup `chunks` of live editions (A–Z) into parts of at most `size` entries that never span
    two initials. An entry added or withdrawn then changes the parts of its letter only, so a
    rebuild with a parts cache (`write_booklet(parts=…)`) lays out those and reuses the rest."""
    part, initial = [], None
    for chunk in chunks:
        for edition in chunk:
            this = initial_of(edition.content.get("generic_name") or edition.generic_name)
            if part and (this != initial or len(part) >= size):
                yield part
                part = []
            part.append(edition)
            initial = this
    if part:
        yield part


def part_key(html, css):
    """Digest of one part's finished HTML and CSS: equal digests lay out to the same PDF."""
    digest = hashlib.sha256()
    for text in (html, *css):
        digest.update(text.encode())
        digest.update(b"\0")
    return digest.hexdigest()


class _CachedPart:
    """A part found in the parts cache: behaves as a finished future."""

    def __init__(self, pages, anchors):
        self._result = (pages, anchors)

    def result(self):
        return self._result

    def done(self):
        return True


def write_booklet(booklet, chunks, out, *, worker_count=None, progress=None, parts=None):
    """Build the booklet from `chunks` (lists of live editions, A–Z) into the file `out`.

    `parts`, if given, is a cache of laid-out parts (`get(key)` → (pages, anchors, pdf bytes) or
    None, `put(key, pages, anchors, path)`): a part whose HTML is unchanged is not laid out again.
    Returns (number of entry pages, number of parts). `progress(message)` is called as parts finish.
    """
    from pypdf import PdfReader, PdfWriter

    report = progress or (lambda message: None)
    started = time.monotonic()
    css = [Path(finders.find(STYLESHEET)).read_text(encoding="utf-8")]
    worker_count = worker_count or workers()
    with tempfile.TemporaryDirectory(prefix="booklet-") as tmp, _pool(worker_count) as pool:
        tmp = Path(tmp)
        laid_out, in_flight, previous_initial, done = [], deque(), None, 0
        for number, chunk in enumerate(chunks, start=1):
            entries = _with_letter_headings([entry_context(e) for e in chunk], previous_initial)
            previous_initial = entries[-1]["initial"]
            path = tmp / f"part-{number:05d}.pdf"
            html = _html(booklet, entries=entries)
            key = part_key(html, css) if parts is not None else None
            found = parts.get(key) if parts is not None else None
            if found is not None:
                pages, anchors, pdf = found
                path.write_bytes(pdf)
                future = _CachedPart(pages, anchors)
            else:
                future = pool.submit(render_part, html, css, str(path))
                future.cache_key = key
            toc = [
                {key: entry[key] for key in ("anchor", "generic_name", "chinese_name", "letter_heading")}
                for entry in entries
            ]
            laid_out.append(_Part(path=path, future=future, toc=toc))
            if found is None:
                in_flight.append(future)
            # Only a few parts at a time: each holds its whole layout until written.
            while len(in_flight) >= 2 * worker_count:
                finished, _pending = wait(in_flight, return_when=FIRST_COMPLETED)
                for f in finished:
                    in_flight.remove(f)
                    done += 1
                report(f"{done} parts laid out ({len(laid_out)} started), {time.monotonic() - started:.1f} s")

        # Page numbers: each part starts where the one before it ended.
        toc, first_page = [], 1
        for part in laid_out:
            part.pages, anchors = part.future.result()
            if parts is not None and getattr(part.future, "cache_key", None):
                parts.put(part.future.cache_key, part.pages, anchors, part.path)
            for item in part.toc:
                toc.append({**item, "page": first_page + anchors.get(item["anchor"], 0)})
            first_page += part.pages
        entry_pages = first_page - 1
        report(f"{len(laid_out)} parts laid out: {entry_pages} entry pages, {time.monotonic() - started:.1f} s")

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
        for part in laid_out:
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
    return entry_pages, len(laid_out)


def booklet_pdf(booklet, chunks, *, worker_count=None):
    """The booklet as bytes (see `write_booklet`)."""
    with tempfile.TemporaryDirectory(prefix="booklet-") as tmp:
        out = Path(tmp) / "booklet.pdf"
        write_booklet(booklet, chunks, out, worker_count=worker_count)
        return out.read_bytes()
