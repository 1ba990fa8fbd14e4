"""Public page parts rendered once per edition and stored in PostgreSQL (monographs/fragments.py).

An approved edition's entry page, both-languages page, list row and search result heading are
rendered by the job queued in the publishing transaction (or on first read), in both languages,
and then read back: one indexed read of the edition and one of its fragment per entry page.
"""

import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from monographs import fragments, selectors, workflow
from monographs.models import ImmutableRecordError, RenderedFragment

from .factories import edit, make_bilingual_entry, make_published, publish
from .job_queue import queued, run_jobs

ZH = "zh-hant"
LANGUAGES = ["en", ZH]
PARTS = list(fragments.Part)


def url(name, *args, language="en"):
    with translation.override(language):
        return reverse(f"monographs:{name}", args=args)


def stored(edition, part=None, language=None):
    rows = RenderedFragment.objects.filter(edition=edition)
    if part is not None:
        rows = rows.filter(part=part)
    if language is not None:
        rows = rows.filter(language=language)
    return rows


def names(response):
    return [template.name for template in response.templates]


@pytest.fixture
def live_bilingual(editor, reviewer):
    """Lenalidomide with Chinese text (one section's translation outdated), just published: its
    rendering job queued, not yet run."""
    return publish(make_bilingual_entry(editor), editor=editor, reviewer=reviewer, accept_stale_translations=True)


@pytest.fixture
def live_edition(live_bilingual):
    """The live edition of `live_bilingual`, with the rendering job its approval queued run."""
    run_jobs("render_edition")
    return live_bilingual.state.live_edition


@pytest.fixture
def fresh_digests():
    """Digests computed from the templates as the test sets them, and again afterwards."""
    fragments.digest.cache_clear()
    yield
    fragments.digest.cache_clear()


# --- At publication, through the job queue -----------------------------------------------------


def test_approval_queues_the_rendering_and_the_worker_stores_every_part_in_both_languages(live_bilingual):
    edition = live_bilingual.state.live_edition
    # The approval itself rendered nothing: it only queued the job, in its own transaction.
    assert not stored(edition).exists()
    assert [args for _id, _name, args in queued("render_edition")] == [{"edition_id": edition.pk}]

    assert run_jobs("render_edition") == 1

    made = set(stored(edition).values_list("part", "language", "digest"))
    assert made == {(part, language, fragments.digest(part)) for part in PARTS for language in LANGUAGES}
    chinese = stored(edition, "entry", ZH).get().html
    assert "來那度胺是一種免疫調節藥物" in chinese
    assert "來那度胺是一種免疫調節藥物" not in stored(edition, "entry", "en").get().html


def test_the_stored_html_equals_what_a_fresh_render_gives(live_edition):
    (edition,) = selectors.live_editions_to_render([live_edition.pk])
    for part in PARTS:
        for language in LANGUAGES:
            assert stored(edition, part, language).get().html == fragments.render(edition, part, language), (
                part,
                language,
            )


def test_a_job_for_an_edition_no_longer_live_renders_nothing(published_lenalidomide, reviewer):
    edition = published_lenalidomide.state.live_edition
    workflow.withdraw(entry=published_lenalidomide, user=reviewer, comment="Safety review")
    run_jobs("render_edition")
    assert not stored(edition).exists()


# --- Read: one indexed read of the edition, one of its fragment, a small shell -----------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_approved_editions_page_is_served_from_its_stored_fragment(client, live_edition, language):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url("entry_detail", "lenalidomide", language=language))
    assert response.status_code == 200
    # The live edition by slug, then its stored monograph: nothing else.
    assert len(queries) == 2, [query["sql"] for query in queries]
    assert "monographs_renderedfragment" in queries[1]["sql"]
    # The shell is rendered; the monograph and its includes are not.
    assert "monographs/entry_detail.html" in names(response)
    assert "monographs/_monograph.html" not in names(response)
    assert "monographs/_section_chinese.html" not in names(response)
    page = response.content.decode()
    assert stored(live_edition, "entry", language).get().html in page
    assert ("來那度胺是一種免疫調節藥物" in page) == (language == ZH)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_both_languages_page_is_served_from_its_stored_fragment(client, live_edition, language):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url("entry_bilingual", "lenalidomide", language=language))
    assert response.status_code == 200 and len(queries) == 2
    assert "monographs/_bilingual.html" not in names(response)
    assert stored(live_edition, "bilingual", language).get().html in response.content.decode()


def test_what_the_page_shows_around_the_fragment_stays_per_request(client, live_edition):
    page = client.get(url("entry_detail", "lenalidomide", language=ZH)).content.decode()
    fragment = stored(live_edition, "entry", ZH).get().html
    # The language switch, the staff edit link's placeholder and the header search are the shell's.
    assert 'hreflang="en"' in page and 'hreflang="en"' not in fragment
    assert "data-edit-link" in page and "data-edit-link" not in fragment
    assert 'role="search"' in page and 'role="search"' not in fragment


def test_a_planted_fragment_is_what_every_page_shows(client, live_edition):
    """The pages really read the store: the A–Z list (and so the class pages, the same code) and a search result show a
    row's stored HTML, the entry page its stored monograph (rows are written once, so the planted
    ones replace the job's rows here)."""
    stored(live_edition).delete()
    for part in PARTS:
        RenderedFragment.objects.create(
            edition=live_edition, language="en", part=part, digest=fragments.digest(part), html=f"<b>PLANTED-{part}</b>"
        )
    assert "PLANTED-entry" in client.get(url("entry_detail", "lenalidomide")).content.decode()
    assert "PLANTED-bilingual" in client.get(url("entry_bilingual", "lenalidomide")).content.decode()
    assert "PLANTED-row" in client.get(url("entry_list") + "?letter=L").content.decode()
    assert "PLANTED-result" in client.get(url("search") + "?q=Revlimid").content.decode()


def test_a_missing_fragment_is_rendered_on_first_read_and_stored_once(client, published_lenalidomide):
    """An edition published before the store (or whose job has not run) is rendered by its first
    reader; the job that runs later finds the part there and keeps it."""
    edition = published_lenalidomide.state.live_edition
    first = client.get(url("entry_detail", "lenalidomide")).content.decode()
    row = stored(edition, "entry", "en").get()
    assert row.html in first

    run_jobs("render_edition")
    assert stored(edition, "entry", "en").get().pk == row.pk
    assert stored(edition).count() == len(PARTS) * len(LANGUAGES)
    assert client.get(url("entry_detail", "lenalidomide")).content.decode() == first


def test_a_part_another_process_stored_first_is_kept_without_error(published_lenalidomide):
    """Two processes rendering the same part at once: the second insert does nothing (ON CONFLICT
    DO NOTHING), the transaction goes on, and the row first stored stays."""
    edition = published_lenalidomide.state.live_edition
    first = RenderedFragment.objects.create(
        edition=edition, language="en", part="row", digest=fragments.digest("row"), html="<b>FIRST</b>"
    )
    with transaction.atomic():
        made = fragments.render_edition(edition.pk)
        assert RenderedFragment.objects.filter(edition=edition).count() == len(PARTS) * len(LANGUAGES)
    assert made == len(PARTS) * len(LANGUAGES) - 1
    assert stored(edition, "row", "en").get().html == first.html


def test_a_stored_fragment_cannot_be_changed(live_edition):
    row = stored(live_edition, "entry", "en").get()
    row.html = "<p>rewritten</p>"
    with pytest.raises(ImmutableRecordError):
        row.save()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        RenderedFragment.objects.filter(pk=row.pk).update(html="<p>rewritten</p>")
    assert "rewritten" not in stored(live_edition, "entry", "en").get().html


# --- Public truth: only the live edition, never a withdrawn one ------------------------------


def test_a_withdrawn_entry_is_never_shown_from_its_fragments(client, live_edition, reviewer):
    entry = live_edition.entry
    assert stored(live_edition).count() == len(PARTS) * len(LANGUAGES)

    workflow.withdraw(entry=entry, user=reviewer, comment="Safety review")

    for language in LANGUAGES:
        assert client.get(url("entry_detail", "lenalidomide", language=language)).status_code == 404
        assert client.get(url("entry_bilingual", "lenalidomide", language=language)).status_code == 404
        for page in (
            url("entry_list", language=language) + "?letter=L",
            url("search", language=language) + "?q=Revlimid",
        ):
            response = client.get(page)
            assert response.status_code == 200 and "Lenalidomide" not in response.content.decode()


def test_a_new_edition_is_shown_at_once_and_its_parts_rendered_anew(client, live_edition, editor, reviewer):
    entry = edit(live_edition.entry, user=editor, first_section_body="Second edition wording.")
    publish(entry, editor=editor, reviewer=reviewer, accept_stale_translations=True)
    page = client.get(url("entry_detail", "lenalidomide")).content.decode()
    assert "Second edition wording." in page
    new = entry.state.live_edition
    new.refresh_from_db()
    assert new.pk != live_edition.pk and stored(new, "entry", "en").exists()


def test_the_staff_preview_renders_unpublished_content_and_never_touches_the_store(
    client, live_edition, editor, reviewer2
):
    entry = edit(live_edition.entry, user=editor, first_section_body="PREVIEWONLY wording.")
    workflow.submit(entry=entry, user=editor, comment="Ready")
    before = set(RenderedFragment.objects.values_list("pk", "html"))
    client.force_login(reviewer2)
    response = client.get(reverse("admin:monographs_entry_preview", args=[entry.pk]), {"language": "en"})
    assert response.status_code == 200
    assert "PREVIEWONLY wording." in response.content.decode()
    assert "monographs/_monograph.html" in names(response)
    assert set(RenderedFragment.objects.values_list("pk", "html")) == before


# --- Templates changed by a deployment -------------------------------------------------------


def test_a_template_change_makes_a_new_digest_and_the_pages_re_render(
    client, live_edition, settings, tmp_path, fresh_digests
):
    old_digest = fragments.digest("row")
    changed = tmp_path / "monographs" / "_edition_row.html"
    changed.parent.mkdir()
    source = Path(django_settings.BASE_DIR) / "templates" / "monographs" / "_edition_row.html"
    shutil.copy(source, changed)
    changed.write_text(changed.read_text() + '<span class="deployed-change">NEW-TEMPLATE</span>\n')
    templates = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]
    settings.TEMPLATES = templates
    fragments.digest.cache_clear()

    assert fragments.digest("row") != old_digest
    assert fragments.digest("entry") == stored(live_edition, "entry", "en").get().digest  # only what uses it
    page = client.get(url("entry_list") + "?letter=L").content.decode()
    assert "NEW-TEMPLATE" in page
    assert set(stored(live_edition, "row", "en").values_list("digest", flat=True)) == {
        old_digest,
        fragments.digest("row"),
    }


def test_render_editions_rebuilds_every_live_edition_with_progress_and_prunes(live_edition, editor, reviewer):
    other = make_published("Metformin", editor=editor, reviewer=reviewer).state.live_edition
    superseded = RenderedFragment.objects.create(
        edition=other, language="en", part="row", digest="0123456789abcdef", html="<b>OLD TEMPLATE</b>"
    )
    out = StringIO()
    call_command("render_editions", chunk_size=1, stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("2 live editions")
    assert "1/2 editions, 0 parts rendered" in lines[1]  # lenalidomide's job had already run
    assert f"2/2 editions, {len(PARTS) * len(LANGUAGES)} parts rendered" in lines[2]
    assert lines[-1] == f"Rendered {len(PARTS) * len(LANGUAGES)} parts of 2 live editions."
    assert stored(other).exclude(pk=superseded.pk).count() == len(PARTS) * len(LANGUAGES)

    out = StringIO()
    call_command("render_editions", prune=True, stdout=out)
    assert "Rendered 0 parts" in out.getvalue() and "Deleted 1 parts of superseded templates." in out.getvalue()
    assert not RenderedFragment.objects.filter(pk=superseded.pk).exists()
    assert stored(live_edition).count() == stored(other).count() == len(PARTS) * len(LANGUAGES)
