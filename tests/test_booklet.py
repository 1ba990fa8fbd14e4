"""Printable booklet: the formulary or one drug class as a PDF (WeasyPrint), read with
poppler's pdftotext and pdffonts as a person or a printer would see it. Requests only
serve what the job queue built (`booklet_store`); the jobs run here with `tests.job_queue`."""

import io
import re
import shutil
import subprocess  # nosec B404: runs poppler's own tools on a file the test wrote
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils.text import slugify

from monographs import booklet, booklet_store, selectors, workflow
from monographs.demo import DRUG_CLASS
from monographs.models import BookletPart, BuiltBooklet

from .factories import make_entry, make_published, one_product, product
from .job_queue import queued, run_jobs


def _weasyprint_missing():
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError) as exc:  # OSError: Pango is not installed
        return f"weasyprint cannot load ({exc}); pip install -r requirements.txt and apt-get install libpango-1.0-0"
    for tool in ("pdftotext", "pdffonts"):
        if shutil.which(tool) is None:
            return f"{tool} is missing: apt-get install poppler-utils"
    return None


pytestmark = pytest.mark.skipif(bool(_weasyprint_missing()), reason=_weasyprint_missing() or "")

CLASS_URL = reverse("monographs:class_booklet", args=[slugify(DRUG_CLASS, allow_unicode=True)])
WHOLE_URL = reverse("monographs:booklet")


@pytest.fixture(autouse=True)
def one_worker_thread(settings):
    # One worker thread for the builds here (the command test below uses worker processes).
    settings.FORMULARY_BOOKLET_WORKERS = 1


def built(client, url):
    """The booklet at `url` as the worker builds it: the first request finds none and queues it."""
    response = client.get(url)
    if response.status_code == 503:
        run_jobs("build_booklet")
        response = client.get(url)
    return response


def run_tool(tool, pdf_bytes, tmp_path):
    path = tmp_path / "booklet.pdf"
    path.write_bytes(pdf_bytes)
    args = [tool, str(path), "-"] if tool == "pdftotext" else [tool, str(path)]
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout  # nosec B603


def pdf_of(response):
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/pdf"
    return b"".join(response.streaming_content) if response.streaming else response.content


def contents_page_of(text, name):
    """The page number the table of contents gives for `name` (leader dots, then the number)."""
    match = re.search(rf"^{re.escape(name)}[^\n.]*(?:\.\s*){{3,}}(\d+)\s*$", text, re.MULTILINE)
    assert match, f"{name} with a page number is not in the contents:\n{text[:3000]}"
    return int(match.group(1))


def test_class_booklet_has_cover_contents_with_page_numbers_and_the_facts(client, published_lenalidomide, tmp_path):
    response = built(client, CLASS_URL)

    text = run_tool("pdftotext", pdf_of(response), tmp_path)
    pages = text.split("\f")
    assert 'filename="formulary-booklet-' in response["Content-Disposition"]
    # Cover: title, scope and the edition date (the formulary's publication stamp).
    cover = pages[0]
    assert "Hospital Formulary" in cover and f"Drug class: {DRUG_CLASS}" in cover
    stamp = selectors.formulary_last_changed()
    assert "Edition date" in cover and str(stamp.astimezone().year) in cover
    # Contents with a page number, and the entry on that page of the entries (numbered from 1).
    contents = next(p for p in pages if "Contents" in p)
    page = contents_page_of(contents, "Lenalidomide")
    first_entry_page = next(i for i, p in enumerate(pages) if "HK-90101" in p)
    assert page == 1 and "Lenalidomide" in pages[first_entry_page]
    assert re.search(r"^\s*1\s*$", pages[first_entry_page], re.MULTILINE)  # the stamped page number
    assert "Hospital Formulary" in pages[first_entry_page]  # the running header
    # The facts block: safety badges, boxed warning, one row per strength with its registration number.
    for fact in (
        "Harmful in pregnancy",
        "Pregnancy prevention programme",
        "Do not use in pregnancy",
        "Revlimid",
        "HK-90101",
        "HK-90306",
        "Self-financed",
        "Prescription only",
    ):
        assert fact in text, fact
    # And the monograph's sections.
    assert "Side effects" in text or "Side Effects" in text


def test_whole_formulary_booklet_leaves_out_drafts_and_withdrawn_entries(
    client, published_lenalidomide, editor, reviewer, tmp_path
):
    make_published("Metformin", editor=editor, reviewer=reviewer, products=[one_product("Metformin")])
    make_entry("Draftonium", user=editor, products=[one_product("Draftonium", registration="HK-77777")])
    gone = make_published("Withdrawnol", editor=editor, reviewer=reviewer, products=[one_product("Withdrawnol")])
    workflow.withdraw(entry=gone, user=reviewer, comment="Off the market")

    text = run_tool("pdftotext", pdf_of(built(client, WHOLE_URL)), tmp_path)

    assert "All published entries, A–Z" in text
    assert contents_page_of(text, "Lenalidomide") < contents_page_of(text, "Metformin")
    assert "HK-90101" in text and "Metformin product" in text
    assert "Draftonium" not in text and "HK-77777" not in text
    assert "Withdrawnol" not in text


def test_chinese_booklet_embeds_a_noto_cjk_font(client, published_lenalidomide, tmp_path):
    chinese_url = "/zh-hant/" + CLASS_URL.removeprefix("/en/")

    pdf = pdf_of(built(client, chinese_url))

    fonts = run_tool("pdffonts", pdf, tmp_path)
    cjk = [line for line in fonts.splitlines() if "CJK" in line]
    assert cjk, fonts
    # Columns: name, type, encoding, emb, sub, uni; "emb" must be yes.
    assert all(re.search(r"\byes\s+yes\s+yes\b", line) for line in cjk), fonts
    text = run_tool("pdftotext", pdf, tmp_path)
    assert "目錄" in text and "版本日期" in text and "來那度胺" in text and "HK-90101" in text
    assert "formulary-booklet" in client.get(chinese_url)["Content-Disposition"]


def test_no_request_lays_out_a_pdf_it_says_the_booklet_is_being_prepared_and_queues_it(
    client, published_lenalidomide, monkeypatch
):
    monkeypatch.setattr(booklet, "write_booklet", lambda *a, **k: pytest.fail("laid out on a request"))

    for _ in range(2):
        response = client.get(WHOLE_URL)
        assert response.status_code == 503 and response["Retry-After"] == "30"
        assert "being prepared" in response.content.decode()
    # The publication queued the rebuilds (whole formulary and class, both languages); the
    # requests added none: a waiting rebuild is not queued twice.
    jobs = queued("build_booklet")
    assert sorted((args["drug_class"], args["language"]) for _id, _name, args in jobs) == sorted(
        (c, lang) for c in ("", DRUG_CLASS) for lang in ("en", "zh-hant")
    )


def test_concurrent_requests_for_a_booklet_not_yet_built_queue_one_build(
    transactional_db, published_lenalidomide, monkeypatch
):
    """Many readers open the booklet at the same moment, each request on its own database
    connection: one build is queued, not one per request (the queue's lock, in PostgreSQL)."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from django.db import connection
    from django.test import Client

    monkeypatch.setattr(booklet, "write_booklet", lambda *a, **k: pytest.fail("laid out on a request"))
    with connection.cursor() as cursor:
        # Set aside the rebuilds the publication queued: the requests must queue them.
        cursor.execute("UPDATE procrastinate_jobs SET status = 'cancelled' WHERE status = 'todo'")
    readers = 8
    start = Barrier(readers)

    def read(_):
        start.wait()  # all at once
        try:
            return Client().get(WHOLE_URL).status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(readers) as pool:
        statuses = list(pool.map(read, range(readers)))

    assert statuses == [503] * readers
    jobs = [(args["drug_class"], args["language"]) for _id, _name, args in queued("build_booklet")]
    assert jobs == [("", "en")]


def test_built_once_per_content_and_language_and_served_to_every_request(
    client, published_lenalidomide, editor, reviewer, tmp_path
):
    first = pdf_of(built(client, WHOLE_URL))
    assert pdf_of(client.get(WHOLE_URL)) == first
    assert BuiltBooklet.objects.filter(drug_class="", language="en").count() == 1
    assert run_jobs("build_booklet") == 0  # nothing left to do: serving queues nothing

    # A publication in another class changes the whole booklet, not this class's.
    make_published("Metformin", editor=editor, reviewer=reviewer, drug_class="Biguanides")
    assert {args["drug_class"] for _i, _n, args in queued("build_booklet")} == {"", "Biguanides"}
    run_jobs("build_booklet")
    text = run_tool("pdftotext", pdf_of(client.get(WHOLE_URL)), tmp_path)
    assert "Metformin" in text
    class_booklet = BuiltBooklet.objects.get(drug_class=DRUG_CLASS, language="en")
    assert pdf_of(client.get(CLASS_URL))  # still the same file, not rebuilt
    assert BuiltBooklet.objects.get(drug_class=DRUG_CLASS, language="en").pk == class_booklet.pk
    # One file per booklet: the older whole-formulary file was replaced.
    assert BuiltBooklet.objects.filter(drug_class="", language="en").count() == 1


def test_while_a_rebuild_waits_the_previous_file_is_served_marked_with_its_date_and_the_changes(
    client, published_lenalidomide, editor, reviewer
):
    before = pdf_of(built(client, WHOLE_URL))
    make_published("Metformin", editor=editor, reviewer=reviewer)

    response = client.get(WHOLE_URL)

    assert pdf_of(response) == before
    assert response["X-Booklet-Built"] and response["X-Booklet-Changed-Since"] == "Metformin"
    assert "no-cache" in response["Cache-Control"]


def test_after_a_withdrawal_a_file_holding_the_withdrawn_entry_is_never_served(
    client, published_lenalidomide, editor, reviewer, tmp_path
):
    make_published("Metformin", editor=editor, reviewer=reviewer)
    pdf_of(built(client, WHOLE_URL))

    workflow.withdraw(entry=published_lenalidomide, user=reviewer, comment="Recalled by the maker")

    response = client.get(WHOLE_URL)
    assert response.status_code == 503 and response["Retry-After"] == "30"
    run_jobs("build_booklet")
    text = run_tool("pdftotext", pdf_of(client.get(WHOLE_URL)), tmp_path)
    assert "Metformin" in text and "Lenalidomide" not in text and "HK-90101" not in text


def test_a_rebuild_lays_out_only_the_parts_that_changed(client, published_lenalidomide, editor, reviewer, monkeypatch):
    for name in ("Amlodipine", "Bisoprolol", "Zopiclone"):
        make_published(name, editor=editor, reviewer=reviewer)
    laid_out = []
    real = booklet.render_part
    monkeypatch.setattr(booklet, "render_part", lambda html, css, path: laid_out.append(1) or real(html, css, path))
    booklet_store.build("", "en")
    # One part per letter (A, B, L, Z), the cover and contents, one sheet of page numbers.
    assert len(laid_out) == 6 and BookletPart.objects.count() == 4

    laid_out.clear()
    make_published("Zidovudine", editor=editor, reviewer=reviewer)
    booklet_store.build("", "en")
    # Only the Z part, the cover and contents and the page numbers again.
    assert len(laid_out) == 3


def test_unknown_class_and_empty_formulary_are_404(client, db):
    assert client.get(WHOLE_URL).status_code == 404
    assert client.get(reverse("monographs:class_booklet", args=["no-such-class"])).status_code == 404


def test_command_builds_a_small_generated_formulary_in_parts(db, tmp_path, settings):
    settings.FORMULARY_BOOKLET_WORKERS = 2  # worker processes, as in production
    call_command("generate_formulary", entries=5, versions=1, products_per_entry=2, strengths_per_product=1, quiet=True)
    names = [e.generic_name for chunk in selectors.live_editions_in_chunks() for e in chunk]
    out, err = io.StringIO(), io.StringIO()
    target = tmp_path / "all.pdf"

    call_command("build_booklet", part_size=2, out=str(target), stdout=out, stderr=err)

    assert "3 parts laid out" in err.getvalue()
    assert f"Wrote {target}: 5 entries" in out.getvalue() and "in 3 parts" in out.getvalue()
    text = run_tool("pdftotext", target.read_bytes(), tmp_path)
    pages = [contents_page_of(text, name) for name in names]
    assert pages == sorted(pages) and pages[0] == 1
    # Entry pages are numbered from 1 by the stamped page furniture.
    pages = [p for p in text.split("\f") if p.strip()]
    first = next(i for i, p in enumerate(pages) if "HK-" in p)
    for number, page in enumerate(pages[first:], start=1):
        assert re.search(rf"^{number}$", page, re.MULTILINE), (number, page)


def test_command_refuses_an_unknown_class(db):
    with pytest.raises(CommandError, match="No published entry in a drug class"):
        call_command("build_booklet", drug_class="No such class", out="/nonexistent/x.pdf")


def test_chunks_are_a_to_z_and_bounded(published_lenalidomide, editor, reviewer):
    for name in ("beta", "Alpha", "gamma"):
        make_published(name, editor=editor, reviewer=reviewer)
    chunks = list(selectors.live_editions_in_chunks(chunk_size=2))
    assert [len(c) for c in chunks] == [2, 2]
    assert [e.generic_name for c in chunks for e in c] == ["Alpha", "beta", "gamma", "Lenalidomide"]
    assert selectors.live_edition_count() == 4 and selectors.live_edition_count(DRUG_CLASS) == 1
    assert Path(booklet.file_name("", "en")).name == "formulary-booklet-en.pdf"


def _word_boxes(pdf_bytes, tmp_path):
    """(page width, [(word, xMax)]) of every word of a PDF, from poppler's pdftotext -bbox."""
    path = tmp_path / "bbox.pdf"
    path.write_bytes(pdf_bytes)
    html = subprocess.run(  # nosec B603 B607: poppler's tool on a file the test wrote
        ["pdftotext", "-bbox", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    pages = re.findall(r'<page width="([\d.]+)" height="[\d.]+">(.*?)</page>', html, re.DOTALL)
    words = []
    for width, body in pages:
        for x_max, word in re.findall(
            r'<word xMin="[\d.]+" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)</word>', body
        ):
            words.append((float(width), word, float(x_max)))
    return words


# A4 with the booklet's 15 mm side margins (static/formulary/booklet.css), in PDF points.
RIGHT_MARGIN_POINTS = 15 / 25.4 * 72


def _long_strength_products(editor, reviewer):
    """An entry whose table has the longest words a real one may: holders' names, a pack that
    is text, markings, and a Chinese product name."""
    long_holder = "Pharmazeutische Fabrik Montavit Gesellschaft mbH Hongkongniederlassungsvertretung (demo)"
    spec = product(
        "Extraordinarilylongbrandnamewithoutanyspaces Capsules",
        certificate_holder=long_holder,
        strengths=[
            {
                "amount": "12.5",
                "unit": "mg",
                "dosage_form": "capsule",
                "route": "oral",
                "appearance": "Swedish-orange-and-caramel-coloured opaque hard gelatin capsule imprinted 'ABCDEFGHIJKLMNOP'",
                "pack_size": "2 blisters of 14 capsules in a child-resistant wallet",
            }
        ],
    )
    return make_published("Sunitinib", editor=editor, reviewer=reviewer, products=[spec])


@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_no_strengths_table_crosses_the_right_margin(
    client, published_bilingual_lenalidomide, editor, reviewer, tmp_path, language
):
    _long_strength_products(editor, reviewer)
    pdf = pdf_of(built(client, f"/{language}/" + WHOLE_URL.removeprefix("/en/")))
    words = _word_boxes(pdf, tmp_path)
    assert any(word == "HK-90101" for _w, word, _x in words)
    past = [
        (word, round(x, 1), round(width - RIGHT_MARGIN_POINTS, 1))
        for width, word, x in words
        if x > width - RIGHT_MARGIN_POINTS + 0.5
    ]
    assert past == []


def test_the_chinese_booklet_prints_the_chinese_boxed_warning_and_sections_where_current(
    client, published_bilingual_lenalidomide, tmp_path
):
    from monographs.demo import CHINESE_DEFAULTS, ENTRY_DEFAULTS

    pdf = pdf_of(built(client, "/zh-hant/" + CLASS_URL.removeprefix("/en/")))
    text = " ".join(run_tool("pdftotext", pdf, tmp_path).split())
    chinese_warning = CHINESE_DEFAULTS["boxed_warning_zh"]
    english_warning = ENTRY_DEFAULTS["boxed_warning"]
    # pdftotext breaks lines inside the box: compare without white space.
    squeezed = re.sub(r"\s+", "", text)
    assert re.sub(r"\s+", "", chinese_warning) in squeezed
    assert "Do not use in pregnancy" not in text and re.sub(r"\s+", "", english_warning) not in squeezed
    # A translated section in Chinese; the untranslated one in English, labelled.
    assert "免疫調節醯亞胺類藥物" in text
    assert "英文原文（未有中文譯文）" in text  # the untranslated section, labelled
    english = " ".join(run_tool("pdftotext", pdf_of(built(client, CLASS_URL)), tmp_path).split())
    assert "Do not use in pregnancy" in english and "懷孕期間不可使用" not in english
