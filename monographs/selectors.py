"""Public reads. Everything here sees published (live) editions only, so no
draft, never-published or withdrawn text can reach a public page, search,
feed or API that reads through these functions."""

from django.http import Http404

from .models import Edition


def live_editions():
    return Edition.objects.live()


def live_edition_for_slug(slug):
    """The live edition at this public address, or Http404.

    Its content is loaded only when used: the entry page usually has the
    rendered monograph cached and needs just the edition's id and dates.
    """
    edition = live_editions().filter(slug=slug).order_by().defer("content").first()
    if edition is None:
        raise Http404("No published entry at this address.")
    return edition


# --- Public pages (browse, A–Z, drug classes). All built on live_editions(). ---

OTHER_INITIAL = "#"


def live_editions_by_name():
    """Live editions in A–Z order of generic name (case-insensitive)."""
    from django.db.models.functions import Lower

    # Lists show copied columns (name, brands, class); the snapshot stays unread.
    return live_editions().defer("content").order_by(Lower("generic_name"), "pk")


def live_editions_with_initial(letter):
    """Live editions whose generic name starts with `letter` (A–Z), or with anything else for '#'."""
    editions = live_editions_by_name()
    if letter == OTHER_INITIAL:
        return editions.exclude(generic_name__regex=r"^[A-Za-z]")
    return editions.filter(generic_name__istartswith=letter)


def live_initials():
    """The set of upper-case first letters of live generic names ('#' for a non A–Z start)."""
    from django.db.models.functions import Substr, Upper

    firsts = (
        live_editions()
        .order_by()
        .annotate(initial=Upper(Substr("generic_name", 1, 1)))
        .values_list("initial", flat=True)
    )
    return {c if "A" <= c <= "Z" else OTHER_INITIAL for c in firsts.distinct() if c}


def live_drug_classes():
    """[(drug class, number of live entries)] in A–Z order, blank classes left out."""
    from django.db.models import Count

    rows = (
        live_editions()
        .order_by()
        .exclude(drug_class="")
        .values("drug_class")
        .annotate(n=Count("pk"))
        .order_by("drug_class")
    )
    return [(row["drug_class"], row["n"]) for row in rows]


def live_editions_in_class(drug_class):
    return live_editions_by_name().filter(drug_class=drug_class)


# --- Look-ups for the API and FHIR. ---


def live_edition_for_entry(entry_id):
    """The live edition of the entry with this id, or None."""
    return live_editions().filter(entry_id=entry_id).first()


def live_edition_for_key(*, entry_id=None, slug):
    """The live edition of the entry with this id, else the one at this public address; or None."""
    edition = live_edition_for_entry(entry_id) if entry_id is not None else None
    return edition or live_editions().filter(slug=slug).first()


def live_editions_in_bulk(ids):
    """{id: edition} of those of `ids` that are live editions."""
    return live_editions().in_bulk(list(ids))


def _with_product(editions, field, value):
    """Editions with at least one product whose `field` is `value`."""
    from django.db import connection

    if connection.features.supports_json_field_contains:
        return editions.filter(content__products__contains=[{field: value}])
    # SQLite (development only): test the snapshots in Python.
    ids = [
        pk
        for pk, products in editions.values_list("pk", "content__products")
        if any(product.get(field) == value for product in products or [])
    ]
    return editions.filter(pk__in=ids)


def live_editions_filtered(
    *, drug_class=None, formulary_status=None, legal_classification=None, updated_since=None, containing=None
):
    """Live editions matching every given filter, in generic-name order.

    `containing` is the plain "contains" text filter of `live_editions_containing`,
    not the ranked search (`search.search`), which the search endpoints use.
    """
    editions = live_editions()
    if drug_class is not None:
        editions = editions.filter(drug_class__iexact=drug_class)
    if formulary_status is not None:
        editions = _with_product(editions, "formulary_status", formulary_status)
    if legal_classification is not None:
        editions = _with_product(editions, "legal_classification", legal_classification)
    if updated_since is not None:
        editions = editions.filter(approved_at__gte=updated_since)
    if containing:
        editions = _containing(editions, containing)
    return editions.order_by("generic_name", "entry_id")


def _containing(editions, text):
    import re

    from django.db.models import Q
    from django.db.models.fields.json import KeyTextTransform

    # Product names are matched in the JSON text of the products: PostgreSQL writes `"name": "…"`,
    # SQLite `"name":"…"`; re.escape makes the text literal in both regex dialects.
    product_name = r'"name": ?"[^"]*' + re.escape(text)
    return editions.annotate(products_text=KeyTextTransform("products", "content")).filter(
        Q(generic_name__icontains=text)
        | Q(content__synonyms__icontains=text)
        | Q(products_text__iregex=product_name)
        | Q(drug_class__icontains=text)
        | Q(content__atc_code__iexact=text)
    )


def live_editions_containing(text):
    """Live editions whose generic name, synonyms, product names or drug class contain `text`,
    or whose ATC code is `text` (all case-insensitive), in generic-name order.

    A plain filter, not the ranked, typo-tolerant search of `search.search`: the
    API list's `q` and FHIR's `name` string search are defined as "contains",
    and their clients expect exactly those matches in a stable order.
    """
    return live_editions_filtered(containing=text)


def _live_strengths(**wanted):
    """(edition, product, strength) of each strength in a live edition whose fields equal `wanted`."""
    from django.db import connection

    editions = live_editions()
    if connection.features.supports_json_field_contains:
        editions = editions.filter(content__products__contains=[{"strengths": [wanted]}])
    for edition in editions:
        for product in edition.content.get("products", []):
            for strength in product.get("strengths", []):
                if all(strength.get(name) == value for name, value in wanted.items()):
                    yield edition, product, strength


def live_strength(strength_id):
    """(edition, product, strength) of the strength with this id in a live edition, or None."""
    return next(_live_strengths(id=strength_id), None)


def live_strengths_registered_as(registration_number):
    """[(edition, product, strength)] of live strengths with this HK registration number."""
    return list(_live_strengths(registration_number=registration_number))


def formulary_last_changed():
    """When the public formulary last changed: the last publication or withdrawal anywhere, or None.

    A withdrawal removes an entry from every list, so it counts as a change too.
    """
    from django.db.models import Max

    from .models import AuditEvent

    published = Edition.objects.aggregate(at=Max("approved_at"))["at"]
    withdrawn = AuditEvent.objects.filter(action=AuditEvent.Action.WITHDRAWN).aggregate(at=Max("created_at"))["at"]
    moments = [m for m in (published, withdrawn) if m is not None]
    return max(moments) if moments else None


# --- The printable booklet: whole snapshots, read in bounded chunks. ---


def live_edition_count(drug_class=None):
    """How many live editions there are (in `drug_class` when given)."""
    editions = live_editions()
    if drug_class is not None:
        editions = editions.filter(drug_class=drug_class)
    return editions.order_by().count()


def live_editions_in_chunks(*, drug_class=None, chunk_size=100):
    """Live editions with their snapshots, in A–Z order of generic name (as `live_editions_by_name`),
    as lists of at most `chunk_size`: one query per chunk, continuing after the last name read
    (keyset paging), so a caller holds one chunk of snapshots at a time whatever the formulary's size."""
    from django.db.models import Q
    from django.db.models.functions import Lower

    editions = live_editions().annotate(name_key=Lower("generic_name")).order_by("name_key", "pk")
    if drug_class is not None:
        editions = editions.filter(drug_class=drug_class)
    after = None
    while True:
        page = editions
        if after is not None:
            page = page.filter(Q(name_key__gt=after[0]) | Q(name_key=after[0], pk__gt=after[1]))
        chunk = list(page[:chunk_size])
        if not chunk:
            return
        yield chunk
        if len(chunk) < chunk_size:
            return
        after = (chunk[-1].name_key, chunk[-1].pk)
