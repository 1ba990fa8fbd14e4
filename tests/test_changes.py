"""The changes page, the public comparison of two editions and the Atom feed of changes.

Moments are set by patching `django.utils.timezone.now`, which the workflow and the audit
log's `created_at` both read, so each publication and withdrawal happens on a chosen day.
"""

import datetime
import re
import xml.etree.ElementTree as ET
from contextlib import contextmanager
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import translation

from monographs import periods, selectors, workflow

from .factories import edit, make_entry, product, publish

HK = ZoneInfo("Asia/Hong_Kong")
ATOM = "{http://www.w3.org/2005/Atom}"


def hk(*args):
    return datetime.datetime(*args, tzinfo=HK)


@contextmanager
def at(moment):
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


pytestmark = pytest.mark.usefixtures("empty_cache")


def _published(name, when, editor, reviewer, **kwargs):
    with at(when):
        return publish(make_entry(name, user=editor, **kwargs), editor=editor, reviewer=reviewer)


def _republish(entry, when, editor, reviewer, body):
    with at(when):
        entry = edit(entry, user=editor, first_section_body=body)
        return publish(entry, editor=editor, reviewer=reviewer)


@pytest.fixture
def history(db, editor, reviewer):
    return make_history(editor, reviewer)


def make_history(editor, reviewer):
    """Publications and withdrawals around the first quarter of 2025 (Hong Kong time)."""
    # Changed in the period: first published before it.
    amoxicillin = _published("Amoxicillin", hk(2024, 12, 15, 10), editor, reviewer)
    _republish(amoxicillin, hk(2025, 2, 10, 9), editor, reviewer, "Amoxicillin is a penicillin antibiotic.")
    # New in the period, first minute of the quarter.
    _published("Aspirin", hk(2025, 1, 1, 0, 0, 30), editor, reviewer, products=[product("Aspirin tabs")])
    # Withdrawn in the period (after two editions, so it has something to compare).
    gone = _published(
        "Gonadorelin", hk(2024, 11, 1, 9), editor, reviewer, sections=[("overview", "", "Secret old text.")]
    )
    gone = _republish(gone, hk(2024, 11, 20, 9), editor, reviewer, "Secret newer text.")
    with at(hk(2025, 3, 1, 9)):
        workflow.withdraw(entry=gone, user=reviewer, comment="Discontinued")
    # Outside the period: new after it, changed after it, new before it (just before midnight).
    _published("Labetalol", hk(2025, 5, 1, 9), editor, reviewer)
    metformin = _published("Metformin", hk(2024, 10, 1, 9), editor, reviewer)
    _republish(metformin, hk(2025, 4, 1, 0, 0, 1), editor, reviewer, "Metformin is a biguanide.")
    _published("Nifedipine", hk(2024, 12, 31, 23, 59), editor, reviewer)
    return {"amoxicillin": amoxicillin, "gone": gone}


Q1 = {"from": "2025-01-01", "to": "2025-03-31"}


def test_changes_between_lists_new_changed_and_withdrawn_in_the_period_only(history):
    changes = selectors.changes_between(
        *periods.Period(datetime.date(2025, 1, 1), datetime.date(2025, 3, 31)).moments()
    )

    assert [row.generic_name for row in changes.new] == ["Aspirin"]
    assert [(row.generic_name, row.old, row.new) for row in changes.changed] == [("Amoxicillin", 1, 2)]
    assert "Overview" in changes.changed[0].changes.changed
    assert [(row.generic_name, row.at.date()) for row in changes.withdrawn] == [
        ("Gonadorelin", datetime.date(2025, 3, 1))
    ]
    assert not changes.truncated


def test_changes_page_shows_the_period_with_comparison_links_and_no_withdrawn_text(client, history):
    response = client.get(reverse("monographs:changes"), Q1)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Aspirin" in html and "Amoxicillin" in html and "Gonadorelin" in html
    for outside in ("Labetalol", "Metformin", "Nifedipine"):
        assert outside not in html
    assert reverse("monographs:entry_compare", args=["amoxicillin", 1, 2]) in html
    assert reverse("monographs:entry_detail", args=["aspirin"]) in html
    # A withdrawn entry: name and date, never its text nor a link to its page.
    assert "Secret" not in html
    assert reverse("monographs:entry_detail", args=["gonadorelin"]) not in html


def test_changes_page_in_chinese(client, history):
    with translation.override("zh-hant"):
        response = client.get(reverse("monographs:changes"), Q1)

    html = response.content.decode()
    assert response.status_code == 200
    assert "新增條目" in html and "Aspirin" in html


def test_changes_page_defaults_to_this_quarter(client, editor, reviewer):
    _published("Aspirin", hk(2025, 4, 2, 9), editor, reviewer)
    _published("Labetalol", hk(2025, 3, 31, 23), editor, reviewer)

    with at(hk(2025, 5, 15, 12)):
        response = client.get(reverse("monographs:changes"))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'value="2025-04-01"' in html and 'value="2025-05-15"' in html
    assert "Aspirin" in html and "Labetalol" not in html


@pytest.mark.parametrize(
    "params",
    [
        {"from": "yesterday"},
        {"from": "2025-02-30"},
        {"to": "2025-13-01"},
        {"from": "2025-03-01", "to": "2025-01-01"},
        {"from": "2020-01-01", "to": "2025-01-01"},
        {"from": "0001-01-01", "to": "0001-01-02"},
        {"from": "9999-12-31", "to": "9999-12-31"},
        {"from": "2025-01-01\x00"},
        {"from": ["2025-01-01", "x"] * 3, "to": "9" * 5000},
    ],
)
def test_bad_dates_give_400_with_a_message_never_500(client, db, params):
    response = client.get(reverse("monographs:changes"), params)

    assert response.status_code == 400
    assert 'class="form-error" role="alert"' in response.content.decode()


def test_public_comparison_shows_the_word_diff_of_two_published_editions(client, history):
    response = client.get(reverse("monographs:entry_compare", args=["amoxicillin", 1, 2]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "<del>medicine</del> <ins>penicillin antibiotic</ins>" in html
    assert "Amoxicillin" in html and "Overview" in html


def test_comparison_of_a_withdrawn_entry_is_404(client, history):
    assert client.get(reverse("monographs:entry_compare", args=["gonadorelin", 1, 2])).status_code == 404


@pytest.mark.parametrize("old,new", [(2, 1), (1, 1), (0, 2), (1, 3), (2, 3)])
def test_comparison_of_editions_that_were_never_public_is_404(client, history, old, new):
    assert client.get(reverse("monographs:entry_compare", args=["amoxicillin", old, new])).status_code == 404


def test_comparison_with_a_scheduled_edition_not_yet_live_is_404(client, history, editor, reviewer):
    entry = edit(history["amoxicillin"], user=editor, first_section_body="Scheduled text.")
    submitted = workflow.submit(entry=entry, user=editor, comment="Ready")
    workflow.approve(
        entry=entry,
        revision=submitted.revision,
        user=reviewer,
        comment="Later",
        effective_at=hk(2099, 1, 1, 9),
    )

    response = client.get(reverse("monographs:entry_compare", args=["amoxicillin", 2, 3]))

    assert response.status_code == 404


def _feed(client, language="en", **extra):
    with at(hk(2025, 3, 31, 12)), translation.override(language):
        response = client.get(reverse("monographs:changes_feed"), **extra)
    assert response.status_code == 200
    # An XML type a browser lays out with the feed's stylesheet (it shows atom+xml as plain text).
    assert response["Content-Type"] == "application/xml; charset=utf-8"
    return ET.fromstring(response.content)


def test_feed_is_atom_with_the_changes_of_the_last_days(client, history):
    root = _feed(client)

    assert root.tag == f"{ATOM}feed"
    assert root.find(f"{ATOM}title").text
    assert root.find(f"{ATOM}id") is not None and root.find(f"{ATOM}updated") is not None
    entries = root.findall(f"{ATOM}entry")
    titles = [entry.find(f"{ATOM}title").text for entry in entries]
    assert titles == ["Withdrawn: Gonadorelin", "Changed: Amoxicillin (edition 2)", "New: Aspirin"]
    links = [entry.find(f"{ATOM}link").get("href") for entry in entries]
    assert links[1].endswith(reverse("monographs:entry_compare", args=["amoxicillin", 1, 2]))
    assert links[2].endswith(reverse("monographs:entry_detail", args=["aspirin"]))
    assert "/en/changes/?from=2025-03-01&to=2025-03-01" in links[0]
    assert all(link.startswith("http://testserver/") for link in links)
    for entry in entries:
        assert entry.find(f"{ATOM}id").text and entry.find(f"{ATOM}updated").text
    assert len({entry.find(f"{ATOM}id").text for entry in entries}) == 3
    assert b"Secret" not in ET.tostring(root)


def test_feed_in_chinese(client, history):
    root = _feed(client, "zh-hant")
    by_parameter = _feed(client, QUERY_STRING="language=zh-hant")

    for feed in (root, by_parameter):
        titles = [entry.find(f"{ATOM}title").text for entry in feed.findall(f"{ATOM}entry")]
        assert titles[0].startswith("已撤回") and "Gonadorelin" in titles[0]


# --- An edition holding control characters (approved before they were refused) ---

CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def test_feed_and_changes_page_leave_out_control_characters_of_a_published_edition(
    client, edition_predating_the_text_rule
):
    # Before: the vertical tab in the heading made Django's feed writer raise, a 500 for everyone.
    response = client.get(reverse("monographs:changes_feed"))
    assert response.status_code == 200
    text = response.content.decode()
    root = ET.fromstring(response.content)
    titles = [entry.find(f"{ATOM}title").text for entry in root.findall(f"{ATOM}entry")]
    assert titles[0] == "Changed: Amoxicillin (edition 2)"
    assert "Dosing(from the PDF)" in text
    assert not CONTROLS.search(text)

    page = client.get(reverse("monographs:changes")).content.decode()
    assert "Dosing(from the PDF)" in page and "Amoxicillin" in page
    assert not CONTROLS.search(page)


def test_changes_page_declares_its_feed_for_autodiscovery(client, history):
    for language in ("en", "zh-hant"):
        with translation.override(language):
            html = client.get(reverse("monographs:changes")).content.decode()
            feed = reverse("monographs:changes_feed")
        head = html[: html.index("</head>")]
        assert f'<link rel="alternate" type="application/atom+xml" href="{feed}"' in head, language


def test_feed_names_a_readable_stylesheet_in_its_language(client, history):
    from django.contrib.staticfiles import finders

    for language, name in (("en", "feed.css"), ("zh-hant", "feed-zh-hant.css")):
        with translation.override(language):
            body = client.get(reverse("monographs:changes_feed")).content.decode()
        declaration, instruction = body.split("\n")[0], re.search(r"<\?xml-stylesheet [^?]*\?>", body).group(0)
        assert declaration.startswith("<?xml ")
        assert body.index(instruction) < body.index("<feed")
        assert f'href="/static/formulary/{name}"' in instruction and 'type="text/css"' in instruction
        stylesheet = open(finders.find(f"formulary/{name}"), encoding="utf-8").read()
        assert "Atom feed" in stylesheet or "Atom 訂閱源" in stylesheet
        ET.fromstring(body.encode())  # still well-formed XML for feed readers
