"""Public pages for dispensary staff: home, A–Z list, drug classes, the entry page.

Only live editions are public: drafts, never-published and withdrawn entries
are 404 and their text appears on no page.
"""

import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from monographs import fragments, workflow
from monographs.models import RenderedFragment

from .factories import edit, make_entry, make_published, product, publish

pytestmark = pytest.mark.usefixtures("empty_cache")


def entry_page_url(slug):
    return reverse("monographs:entry_detail", args=[slug])


def text_of(response):
    return response.content.decode()


def shown_text(client, url):
    """The text of a page that must be shown (200): a check that something is absent from it
    means nothing on an error page."""
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return text_of(response)


def assert_one_h1_and_landmarks(html):
    assert len(re.findall(r"<h1[ >]", html)) == 1
    for landmark in ("<header", "<nav", "<main", "<footer"):
        assert landmark in html
    assert 'class="skip-link" href="#main"' in html


# --- Home, A–Z, drug classes -------------------------------------------------------


def test_home_has_search_box_and_az_strip(client, published_lenalidomide):
    response = client.get(reverse("monographs:home"))

    html = text_of(response)
    assert response.status_code == 200
    assert_one_h1_and_landmarks(html)
    assert '<label for="q">' in html and 'id="q" name="q" type="search"' in html
    assert f'href="{reverse("monographs:entry_list")}?letter=L"' in html
    # Letters without any published entry are shown but not linked.
    assert f'href="{reverse("monographs:entry_list")}?letter=Q"' not in html


def test_az_list_shows_generic_names_with_brand_names(client, published_lenalidomide, editor, reviewer):
    make_published(
        "Metformin",
        editor=editor,
        reviewer=reviewer,
        products=[product("Glucophage", kind="brand"), product("Metformin Tablets (Generic Co)")],
    )

    response = client.get(reverse("monographs:entry_list"))

    html = text_of(response)
    assert response.status_code == 200
    assert_one_h1_and_landmarks(html)
    assert html.index("Lenalidomide") < html.index("Metformin")
    assert "Revlimid" in html and "Glucophage" in html
    # Generic products are not brand names.
    assert "Metformin Tablets (Generic Co)" not in html


def test_az_list_filters_by_letter_and_paginates(client, settings, editor, reviewer):
    settings.FORMULARY_PUBLIC_PAGE_SIZE = 2
    for name in ["Amoxicillin", "Aspirin", "Atenolol", "Bisoprolol"]:
        make_published(name, editor=editor, reviewer=reviewer)
    url = reverse("monographs:entry_list")

    first = text_of(client.get(url, {"letter": "A"}))
    second = text_of(client.get(url, {"letter": "A", "page": 2}))

    assert "Amoxicillin" in first and "Aspirin" in first and "Atenolol" not in first
    assert "Atenolol" in second and "Bisoprolol" not in second
    assert "letter=A&amp;page=2" in first
    # Odd page and letter parameters give a normal page.
    assert client.get(url, {"letter": "<x>", "page": "zz"}).status_code == 200
    assert client.get(url, {"page": "999"}).status_code == 200


def test_az_list_other_letters(client, editor, reviewer):
    make_published("5-Fluorouracil", editor=editor, reviewer=reviewer)
    make_published("Zidovudine", editor=editor, reviewer=reviewer)

    html = text_of(client.get(reverse("monographs:entry_list"), {"letter": "#"}))

    assert "5-Fluorouracil" in html and "Zidovudine" not in html


def test_browse_by_drug_class(client, published_lenalidomide, editor, reviewer):
    make_published("Metformin", editor=editor, reviewer=reviewer, drug_class="Biguanide")

    classes = client.get(reverse("monographs:class_list"))
    detail = client.get(reverse("monographs:class_detail", args=["biguanide"]))

    assert classes.status_code == 200
    assert_one_h1_and_landmarks(text_of(classes))
    assert "Immunomodulatory imide drug" in text_of(classes) and "Biguanide" in text_of(classes)
    assert detail.status_code == 200
    assert "Metformin" in text_of(detail) and "Lenalidomide" not in text_of(detail)
    assert client.get(reverse("monographs:class_detail", args=["no-such-class"])).status_code == 404


# --- The entry page ------------------------------------------------------------------


@pytest.fixture
def full_entry(editor, reviewer):
    return make_published(
        "Amoxicillin",
        editor=editor,
        reviewer=reviewer,
        drug_class="Penicillin",
        sections=[
            ("overview", "", "Amoxicillin is a **penicillin** antibiotic.\n\n- first point\n- second point"),
            ("side_effects", "", "Diarrhoea and rash. <script>alert('x')</script>"),
            ("other", "Counselling points", "Finish the course."),
        ],
        products=[
            product(
                "Amoxil",
                kind="brand",
                certificate_holder="GSK (demo)",
                legal_classification="antibiotic",
                sale_requirement="prescription",
                formulary_status="general",
                strengths=[
                    {"amount": "250", "unit": "mg", "dosage_form": "capsule", "appearance": "maroon/gold capsule"},
                    {
                        "amount": "250",
                        "unit": "mg",
                        "per_amount": "5",
                        "per_unit": "mL",
                        "dosage_form": "oral_suspension",
                        "pack_size": "100 mL",
                    },
                ],
            ),
            product(
                "Amoxicillin Capsules (Generic Co)", formulary_status="sfi_safety_net", strengths=[{"amount": "2.5"}]
            ),
        ],
    )


def test_entry_page_shows_sections_in_order_with_toc(client, full_entry):
    response = client.get(entry_page_url("amoxicillin"))

    html = text_of(response)
    assert response.status_code == 200
    assert_one_h1_and_landmarks(html)
    assert '<h1 id="entry-title">Amoxicillin</h1>' in html
    # In counter order (the warnings before the overview); each keeps its author-order anchor.
    headings = re.findall(r'<h2 id="section-(\d+)-heading">([^<]+)</h2>', html)
    assert headings == [("2", "Side effects"), ("1", "Overview"), ("3", "Counselling points")]
    for n in (1, 2, 3):
        assert f'href="#section-{n}"' in html and f'id="section-{n}"' in html
    assert 'href="#products"' in html


def test_entry_page_renders_bodies_safely(client, full_entry):
    html = text_of(client.get(entry_page_url("amoxicillin")))

    assert "<strong>penicillin</strong>" in html
    assert "<li>first point</li>" in html
    assert "<script>alert" not in html
    assert "&lt;script&gt;" in html


def test_entry_page_products_and_strengths_show_labels_not_codes(client, full_entry):
    html = text_of(client.get(entry_page_url("amoxicillin")))

    for label in [
        "Brand",
        "Generic",
        "GSK (demo)",
        "Antibiotic",
        "Part 1, Schedule 1 &amp; Schedule 3 Poison",
        "Prescription only",
        "General drug",
        "Self-financed item with safety net",
        "Capsule",
        "Oral suspension",
        "Oral",
        "maroon/gold capsule",
        "100 mL",
    ]:
        assert label in html, label
    assert ">sfi_safety_net<" not in html and ">p1s1s3<" not in html and ">oral_suspension<" not in html
    assert '<span class="strength">250 mg</span> Capsule' in html
    assert '<span class="strength">250 mg per 5 mL</span> Oral suspension' in html
    assert '<span class="strength">2.5 mg</span> Tablet' in html
    assert re.search(r'<span class="registration-number">HK-\d{5}</span>', html)
    # One strengths table per product (4 columns each), a row per strength.
    assert html.count('<th scope="col">') == 4 + 4
    assert html.count('<tr id="strength-') == 3


def test_entry_page_shows_approval_review_date_and_disclaimer(client, full_entry):
    edition = full_entry.state.live_edition

    html = text_of(client.get(entry_page_url("amoxicillin")))

    assert "Last approved" in html and edition.approved_at.astimezone().strftime("%Y-%m-%d") in html
    assert "Next review due" in html and edition.next_review_due.isoformat() in html
    assert "Disclaimer:" in html


def test_entry_page_shows_chinese_body(client, editor, reviewer):
    make_published(
        "Paracetamol",
        editor=editor,
        reviewer=reviewer,
        synonyms="撲熱息痛",
        sections=[("overview", "概覽", "撲熱息痛用於紓緩輕度至中度痛楚及退燒。")],
    )

    response = client.get(entry_page_url("paracetamol"))

    assert response["Content-Type"] == "text/html; charset=utf-8"
    html = text_of(response)
    assert "撲熱息痛用於紓緩輕度至中度痛楚及退燒。" in html
    assert '<h2 id="section-1-heading">概覽</h2>' in html


def test_entry_page_puts_the_facts_first_name_badges_warning_then_one_row_per_strength(client, published_lenalidomide):
    html = text_of(client.get(entry_page_url("lenalidomide")))
    content = published_lenalidomide.state.live_edition.content

    # Name, Chinese name, badges, boxed warning, the products, then the warnings, then the
    # descriptive sections: in that order.
    order = [
        '<h1 id="entry-title">Lenalidomide</h1>',
        '<p class="chinese-name" lang="zh-Hant">來那度胺</p>',
        '<li class="badge badge-pregnancy">Harmful in pregnancy</li>',
        '<li class="badge badge-pregnancy_prevention">Pregnancy prevention programme</li>',
        '<li class="badge badge-cytotoxic">Cytotoxic: handle as hazardous</li>',
        "Do not use in pregnancy: a thalidomide analogue",
        'id="products"',
        '<span class="registration-number">HK-90101</span>',
        '<h2 id="section-8-heading">Contraindications</h2>',
        '<h2 id="section-6-heading">Side effects</h2>',
        '<h2 id="section-9-heading">Interactions</h2>',
        '<h2 id="section-1-heading">Overview</h2>',
    ]
    positions = [html.index(text) for text in order]
    assert positions == sorted(positions)
    assert "<title>Lenalidomide 來那度胺 · Hospital Formulary</title>" in html

    # One row per registered strength, each with an anchor the search can link to.
    strengths = [(p, s) for p in content["products"] for s in p["strengths"]]
    assert len(strengths) == 18
    for _product_row, strength in strengths:
        row = re.search(rf'<tr id="strength-{strength["id"]}">(.*?)</tr>', html, re.S).group(1)
        assert strength["registration_number"] in row and escape(strength["appearance"]) in row
        assert "21 capsules" in row
    # The product's name, status and legal class once, in its block, above its strengths.
    for number, product_row in enumerate(content["products"], start=1):
        block = re.search(rf'id="product-{number}">(.*?)</(?:div|details)>\n', html, re.S).group(1)
        assert block.count(escape(product_row["name"])) >= 1
        status = "Self-financed item with safety net" if product_row["kind"] == "brand" else "Special drug"
        assert block.count(status) == 1
        assert block.count("Part 1, Schedule 1 &amp; Schedule 3 Poison; Prescription only") == 1
        assert all(f'<tr id="strength-{s["id"]}">' in block for s in product_row["strengths"])


def test_entry_page_has_one_disclaimer(client, published_lenalidomide, full_entry):
    # The seed has its own Disclaimer section: the page adds none, and the footer carries none.
    html = text_of(client.get(entry_page_url("lenalidomide")))
    assert len(re.findall(r'class="[^"]*\bdisclaimer\b', html)) == 1
    assert "We disclaim all liability" in html
    assert "Disclaimer:" not in html and "does not replace clinical judgement" not in html

    # Without one the page gives its own, once.
    html = text_of(client.get(entry_page_url("amoxicillin")))
    assert len(re.findall(r'class="[^"]*\bdisclaimer\b', html)) == 1
    assert html.count("Disclaimer:") == 1 and "does not replace clinical judgement" not in html


def test_entry_page_names_the_reviewer_and_lists_earlier_editions_with_what_changed(
    client, published_lenalidomide, editor, reviewer, reviewer2
):
    reviewer2.first_name, reviewer2.last_name = "Mei Ling", "Chan"
    reviewer2.save()
    first = published_lenalidomide.state.live_edition
    entry = edit(published_lenalidomide, user=editor, first_section_body="Second edition wording.")
    entry = edit(entry, user=editor, high_alert=True)
    publish(entry, editor=editor, reviewer=reviewer2)
    second = entry.editions.get(number=2)

    html = text_of(client.get(entry_page_url("lenalidomide")))

    assert "by Mei Ling Chan (edition 2)" in html
    assert "Edition 2 of this monograph was approved on" in html and "by Mei Ling Chan" in html
    changed = re.search(r'<p class="changes">(.*?)</p>', html, re.S).group(1)
    assert "changed high-alert medication, Overview." in " ".join(changed.split())
    history = re.search(r'<ol class="edition-history".*?</ol>', html, re.S).group(0)
    assert "Edition 1" in history and "first publication." in history and "Edition 2" not in history
    assert first.approved_at.astimezone().strftime("%-d %b %Y") in history
    assert second.approved_at.astimezone().strftime("%-d %b %Y") in html


def test_safety_flag_changed_in_the_admin_reaches_the_public_page_only_after_approval(
    client, published_lenalidomide, editor, reviewer2
):
    from .admin_forms import change_form_data

    admin_url = reverse("admin:monographs_entry_change", args=[published_lenalidomide.pk])
    client.force_login(editor)
    data = change_form_data(client.get(admin_url))
    data["high_alert"] = "on"
    data["change_reason"] = "High-alert medication per the hospital list"
    response = client.post(admin_url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    client.logout()

    badge = '<li class="badge badge-high_alert">High-alert medication</li>'
    assert badge not in shown_text(client, entry_page_url("lenalidomide"))  # a draft is not public
    assert "badge-high_alert" not in shown_text(client, reverse("monographs:entry_list"))

    entry = published_lenalidomide
    submitted = workflow.submit(entry=entry, user=editor, comment="Ready")
    assert badge not in shown_text(client, entry_page_url("lenalidomide"))  # nor is a submission
    workflow.approve(entry=entry, revision=submitted.revision, user=reviewer2, comment="Checked")

    assert badge in text_of(client.get(entry_page_url("lenalidomide")))
    assert "badge-high_alert" in text_of(client.get(reverse("monographs:entry_list")))


def test_home_lists_the_drug_classes(client, published_lenalidomide, editor, reviewer):
    make_published("Metformin", editor=editor, reviewer=reviewer, drug_class="Biguanide")

    html = text_of(client.get(reverse("monographs:home")))

    classes = re.search(r'<ul class="class-list">(.*?)</ul>', html, re.S).group(1)
    assert f'href="{reverse("monographs:class_detail", args=["biguanide"])}">Biguanide</a>' in classes
    assert ">Immunomodulatory imide drug</a>" in classes
    assert "2 drug classes" not in html


def test_pages_link_a_favicon(client, published_lenalidomide):
    html = text_of(client.get(reverse("monographs:home")))
    assert '<link rel="icon" href="/static/formulary/favicon.svg" type="image/svg+xml">' in html


# --- Unpublished content is 404 and invisible -------------------------------------------

PUBLIC_LISTINGS = [
    ("monographs:home", {}),
    ("monographs:entry_list", {}),
    ("monographs:entry_list", {"letter": "L"}),
    ("monographs:class_list", {}),
    ("monographs:search", {"q": "lenalidomide"}),
    ("monographs:search", {"q": "Revlimid"}),
    ("monographs:search", {"q": "cereblon"}),
]


def assert_absent_everywhere(client, *texts):
    for name, params in PUBLIC_LISTINGS:
        # The search page repeats the query itself; everything else must not mention the entry.
        html = text_of(client.get(reverse(name), params)).replace(params.get("q", "\0"), "")
        assert 'href="/en/entries/lenalidomide/"' not in html
        for text in texts:
            assert text not in html, (name, params, text)


def test_never_published_draft_is_404_and_absent(client, lenalidomide):
    assert client.get(entry_page_url("lenalidomide")).status_code == 404
    assert_absent_everywhere(client, "Lenalidomide", "Revlimid", "cereblon")


def test_entry_in_review_is_404(client, lenalidomide, editor):
    workflow.submit(entry=lenalidomide, user=editor, comment="Ready")

    assert client.get(entry_page_url("lenalidomide")).status_code == 404
    assert_absent_everywhere(client, "Lenalidomide", "Revlimid")


def test_withdrawn_entry_is_404_and_absent(client, published_lenalidomide, reviewer):
    assert client.get(entry_page_url("lenalidomide")).status_code == 200

    workflow.withdraw(entry=published_lenalidomide, user=reviewer, comment="Safety review")

    assert client.get(entry_page_url("lenalidomide")).status_code == 404
    assert_absent_everywhere(client, "Lenalidomide", "Revlimid", "cereblon")
    assert client.get(reverse("monographs:class_detail", args=["immunomodulatory-imide-drug"])).status_code == 404


def test_draft_of_a_published_entry_stays_private(client, published_lenalidomide, editor):
    edit(published_lenalidomide, user=editor, first_section_body="SECRETDRAFTWORDING about zebrafish.")

    response = client.get(entry_page_url("lenalidomide"))

    assert response.status_code == 200
    assert "SECRETDRAFTWORDING" not in text_of(response)
    for query in ("zebrafish", "SECRETDRAFTWORDING"):
        results = text_of(client.get(reverse("monographs:search"), {"q": query}))
        assert "Nothing found" in results
        assert 'href="/en/entries/lenalidomide/"' not in results


def test_internal_notes_never_shown(client, editor, reviewer):
    entry = make_entry("Metformin", user=editor)
    entry = edit(entry, user=editor, notes="INTERNAL-ONLY-NOTE")
    publish(entry, editor=editor, reviewer=reviewer)

    page = shown_text(client, entry_page_url("metformin"))
    assert "<h1" in page and "Metformin" in page
    assert "INTERNAL-ONLY-NOTE" not in page


# --- Speed: constant queries and caching -------------------------------------------------


def count_queries(client, url):
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_entry_page_query_count_does_not_grow_with_products(client, editor, reviewer):
    make_published("Small", editor=editor, reviewer=reviewer, products=[product("Only One", strengths=1)])
    make_published(
        "Large",
        editor=editor,
        reviewer=reviewer,
        products=[product(f"Product {i:02d}", strengths=6) for i in range(20)],
    )

    small = count_queries(client, entry_page_url("small"))
    large = count_queries(client, entry_page_url("large"))

    assert "Product 19" in text_of(client.get(entry_page_url("large")))
    assert small == large
    # The live edition by slug, its stored monograph (missing: never published through the job
    # queue here), the edition to render, its published editions (reviewers, changes) and the
    # insert of what was rendered; nothing per section, product or strength.
    assert large <= 5


def test_entry_page_query_count_is_fixed_with_django_assert(client, django_assert_num_queries, published_lenalidomide):
    cache.clear()
    # The first read renders what the job queue would have: the live edition by slug, its stored
    # monograph (missing), the edition with its snapshot, its history, the insert.
    with django_assert_num_queries(5):
        client.get(entry_page_url("lenalidomide"))
    with django_assert_num_queries(2):  # stored: the live edition by slug, then its monograph
        client.get(entry_page_url("lenalidomide"))


def test_cache_serves_the_live_edition_and_sees_publication_and_withdrawal_at_once(
    client, published_lenalidomide, editor, reviewer
):
    edition = published_lenalidomide.state.live_edition
    # The store is really used: a planted fragment is what the page shows.
    RenderedFragment.objects.create(
        edition=edition, language="en", part="entry", digest=fragments.digest("entry"), html="<p>FROM-THE-STORE</p>"
    )
    assert "FROM-THE-STORE" in text_of(client.get(entry_page_url("lenalidomide")))

    # A new edition is shown at once, without clearing anything.
    edit(published_lenalidomide, user=editor, first_section_body="Second edition wording.")
    publish(published_lenalidomide, editor=editor, reviewer=reviewer)
    html = text_of(client.get(entry_page_url("lenalidomide")))
    assert "Second edition wording." in html and "FROM-THE-STORE" not in html

    # Withdrawal is seen at once too.
    workflow.withdraw(entry=published_lenalidomide, user=reviewer, comment="Withdrawn")
    assert client.get(entry_page_url("lenalidomide")).status_code == 404


# "Edit this entry" for editors, without a visitor-dependent public page ----------------


def test_the_entry_page_is_the_same_for_an_editor_and_sets_no_editor_cookie(client, published_lenalidomide, editor):
    def page():
        response = client.get("/en/entries/lenalidomide/")
        return response, response.content.decode()

    _anonymous, anonymous_html = page()
    client.force_login(editor)
    signed_in, signed_in_html = page()
    assert anonymous_html == signed_in_html  # no edit link, nothing user-specific in the page
    assert "formulary_editor" not in signed_in.cookies
    assert 'data-edit-link="/edit-link/' in signed_in_html


def test_the_edit_link_is_given_to_editors_only(client, published_lenalidomide, editor, reader):
    url = f"/edit-link/{published_lenalidomide.pk}/"
    assert client.get(url).status_code == 204
    client.force_login(reader)
    assert client.get(url).status_code == 204
    client.force_login(editor)
    response = client.get(url)
    assert response.status_code == 200
    assert response.json() == {"url": f"/admin/monographs/entry/{published_lenalidomide.pk}/change/"}
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_the_admin_sets_the_editor_marker_for_editors_and_removes_it_for_others(client, editor, reader):
    client.force_login(editor)
    assert client.get("/admin/").cookies["formulary_editor"].value == "1"
    client.force_login(reader)
    assert client.get("/admin/").cookies["formulary_editor"]["max-age"] == 0


def test_az_strip_follows_each_publication_and_withdrawal(client, published_lenalidomide, editor, reviewer):
    # The letters with entries are kept per publication stamp: a publication or a withdrawal
    # shows on the next page, in this process and (with REDIS_URL) on every server.
    home = reverse("monographs:home")
    q_link = f'href="{reverse("monographs:entry_list")}?letter=Q"'
    assert q_link not in client.get(home).content.decode()

    quinine = make_published("Quinine", editor=editor, reviewer=reviewer)
    assert q_link in client.get(home).content.decode()

    workflow.withdraw(entry=quinine, user=reviewer, comment="Off the formulary")
    assert q_link not in client.get(home).content.decode()


CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@pytest.mark.parametrize(
    "path",
    [
        "/en/entries/amoxicillin/",
        "/zh-hant/entries/amoxicillin/",
        "/en/entries/",
        "/en/search/?q=food",
        "/en/search/?q=amoxicilin",
        "/en/entries/amoxicillin/compare/1/2/",
    ],
)
def test_public_pages_leave_out_control_characters_of_a_published_edition(
    client, edition_predating_the_text_rule, path
):
    # Published before control characters were refused: editions are immutable, so the pages clean what they show.
    response = client.get(path)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Amoxicillin" in page
    assert not CONTROLS.search(page), CONTROLS.search(page)


# --- The entry page at the counter: products first, then dose and the warnings ------------


@pytest.fixture
def counter_entry(editor, reviewer):
    """Sections written in a descriptive order, as authors often do: the page reorders them."""
    return make_published(
        "Warfarin",
        editor=editor,
        reviewer=reviewer,
        sections=[
            ("overview", "", "Warfarin is an anticoagulant."),
            ("mechanism", "", "It blocks vitamin K epoxide reductase."),
            ("side_effects", "", "Bleeding is the main risk."),
            ("interactions", "", "Many antibiotics raise the INR."),
            ("counselling", "", "Carry the anticoagulant card."),
            ("dose", "", "Take at the same time each evening."),
            ("disclaimer", "", "For staff use only."),
        ],
        products=[
            product("Coumadin", kind="brand", formulary_status="general"),
            product("Warfarin Tablets (Generic Co)", formulary_status="special", strengths=3),
            product("Warfarin Tablets (Other Co)", formulary_status="sfi", strengths=2),
        ],
    )


def test_entry_page_shows_dose_then_warnings_then_the_rest_keeping_each_sections_anchor(client, counter_entry):
    html = text_of(client.get(entry_page_url("warfarin")))

    headings = re.findall(r'<h2 id="section-(\d+)-heading">([^<]+)</h2>', html)
    assert headings == [
        ("6", "Dose and administration"),
        ("3", "Side effects"),
        ("4", "Interactions"),
        ("5", "Counselling points"),
        ("1", "Overview"),
        ("2", "How it works"),
        ("7", "Disclaimer"),
    ]
    # The products come before all of them.
    assert html.index('id="products"') < html.index('id="section-6"')


def test_entry_page_jump_bar_goes_to_dose_warnings_interactions_and_products(client, counter_entry):
    html = text_of(client.get(entry_page_url("warfarin")))

    bar = re.search(r'<div class="context-bar" id="context-bar">(.*?)</nav>', html, re.S).group(1)
    assert '<h1 id="entry-title">Warfarin</h1>' in bar and "badge" not in bar  # no safety flag here
    links = re.findall(r'<li><a href="#([^"]+)">([^<]+)</a></li>', bar)
    assert links == [
        ("section-6", "Dose"),
        ("section-3", "Warnings"),
        ("section-4", "Interactions"),
        ("products", "Products"),
    ]


def test_entry_page_jump_bar_leaves_out_what_the_entry_lacks(client, editor, reviewer):
    make_published("Plainol", editor=editor, reviewer=reviewer, sections=[("overview", "", "A plain medicine.")])

    html = text_of(client.get(entry_page_url("plainol")))

    assert 'class="jump-bar"' not in html


def test_each_product_is_one_block_with_its_status_and_legal_class_once_later_ones_folded(client, counter_entry):
    html = text_of(client.get(entry_page_url("warfarin")))

    blocks = re.findall(r'<(div|details) class="product-block" id="product-(\d)">(.*?)</\1>', html, re.S)
    assert [(tag, number) for tag, number, _body in blocks] == [("div", "1"), ("details", "2"), ("details", "3")]
    statuses = ["General drug", "Special drug", "Self-financed item without safety net"]
    for (_tag, _number, body), status in zip(blocks, statuses, strict=True):
        assert body.count("HA formulary status") == 1 and status in body
        assert body.count("Legal class / sale") == 1
    # A folded product's summary names it and its status, and how many strengths it holds.
    summary = re.search(r"<summary>(.*?)</summary>", blocks[1][2], re.S).group(1)
    assert "Warfarin Tablets (Generic Co)" in summary and "Special drug" in summary and "3 strengths" in summary
    # Every strength is a row of its product's table, under the four column labels.
    assert html.count('<tr id="strength-') == 6
    assert html.count('<th scope="col">') == 4 * 3


def test_entry_page_loads_its_script_from_a_file(client, counter_entry):
    html = text_of(client.get(entry_page_url("warfarin")))

    assert re.search(r'<script src="[^"]*/formulary/entry\.js" defer></script>', html)
    assert "<script>" not in html and " style=" not in html


# --- Lists: each product's status, filters, this quarter's changes ---------------------


@pytest.fixture
def listed(published_lenalidomide, editor, reviewer):
    make_published(
        "metformin",
        editor=editor,
        reviewer=reviewer,
        drug_class="biguanide",
        products=[product("Glucophage", kind="brand", formulary_status="general")],
    )
    make_published(
        "Amlodipine",
        editor=editor,
        reviewer=reviewer,
        drug_class="Calcium channel blocker",
        products=[product("Norvasc", kind="brand", formulary_status="sfi")],
    )
    return published_lenalidomide


def test_lists_and_results_show_each_products_status_never_merged(client, listed):
    for url in (reverse("monographs:entry_list") + "?letter=L", reverse("monographs:search") + "?q=revlimid"):
        html = text_of(client.get(url, follow=True))
        status = re.search(r'<p class="formulary-status">(.*?)</p>', html, re.S).group(1)
        text = re.sub(r"<[^>]+>", "", status)
        assert text == (
            "HA formulary: Special drug: Lenalidomide Capsules (Sandoz), Lenalidomide Capsules (Teva); "
            "Self-financed item with safety net: Revlimid"
        ), url
        assert "Special drug, Self-financed" not in html


def test_a_list_filters_by_formulary_status(client, listed):
    def names(**params):
        html = text_of(client.get(reverse("monographs:entry_list"), params))
        return re.findall(r'<a class="entry-name" href="[^"]+">([^<]+)</a>', html)

    assert names() == ["Amlodipine", "Lenalidomide", "metformin"]
    assert names(status="special") == ["Lenalidomide"]
    assert names(status="sfi_safety_net") == ["Lenalidomide"]
    assert names(status="sfi") == ["Amlodipine"]
    assert names(status="general") == ["metformin"]
    assert names(status="not-a-status") == ["Amlodipine", "Lenalidomide", "metformin"]
    assert names(status="sfi", letter="L") == []


def test_the_filter_links_keep_the_other_parameters_and_mark_the_current_one(client, listed):
    html = text_of(client.get(reverse("monographs:entry_list"), {"letter": "L", "status": "special"}))

    url = reverse("monographs:entry_list")
    assert f'<a href="{url}?letter=L&amp;status=special" aria-current="page">Special drug</a>' in html
    assert f'<a href="{url}?letter=L&amp;status=special&amp;changed=quarter">Changed this quarter</a>' in html
    assert f'<a href="{url}?letter=L">All</a>' in html


def test_a_class_page_filters_and_marks_this_quarters_changes(client, listed, editor, reviewer):
    html = text_of(client.get(reverse("monographs:class_detail", args=["calcium-channel-blocker"])))
    assert "New this quarter" in html

    html = text_of(
        client.get(reverse("monographs:class_detail", args=["calcium-channel-blocker"]), {"status": "special"})
    )
    assert "Amlodipine" not in html and "No published entries match these filters." in html


def test_changed_this_quarter_lists_only_entries_that_went_live_since_the_quarter_began(client, listed):
    import datetime

    from monographs.models import EntryState

    # Lenalidomide went live last year: not a change of this quarter.
    EntryState.objects.filter(entry=listed).update(live_since=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))

    html = text_of(client.get(reverse("monographs:entry_list"), {"changed": "quarter"}))

    names = re.findall(r'<a class="entry-name" href="[^"]+">([^<]+)</a>', html)
    assert names == ["Amlodipine", "metformin"]
    assert html.count("New this quarter") == 2


def test_drug_classes_sort_ignoring_case(client, listed):
    html = text_of(client.get(reverse("monographs:class_list")))

    classes = re.findall(r'<a href="/en/classes/[^"]+/">([^<]+)</a>', html)
    assert classes == ["biguanide", "Calcium channel blocker", "Immunomodulatory imide drug"]


def test_home_offers_the_whole_formulary_booklet(client, published_lenalidomide):
    html = text_of(client.get(reverse("monographs:home")))

    assert f'<a href="{reverse("monographs:booklet")}" type="application/pdf">' in html
    assert "manage.py" not in html
