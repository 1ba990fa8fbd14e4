"""An entry planned in memory: its rows, years of edit history and the versions that were published."""

import datetime
import random
from dataclasses import dataclass, field

from django.utils.text import slugify

from monographs.models import DrugClass as DrugClassRow
from monographs.models import Entry, Product, Section, State, Strength
from monographs.snapshots import snapshot_from_field_dicts

from .products import product_specs
from .text import mutate_body, section_bodies

SYNTHETIC_NOTE = "SYNTHETIC DATA generated for benchmarks by generate_formulary; not a real medicine."

REVISION_COMMENTS = [
    "Updated side effects from the 2023 package insert",
    "Corrected interaction wording after pharmacist review",
    "Added new strength registered with the Drug Office",
    "Revised storage advice",
    "Aligned indications with the HA Drug Formulary update",
    "Clarified contraindications in renal impairment",
    "Minor wording changes after periodic review",
    "Updated Chinese patient advice",
]


@dataclass
class PlannedEntry:
    """One entry as generated in memory: current rows plus its history."""

    entry: Entry
    sections: list
    products: list  # list of (Product, [Strength])
    # Per version: {section index: body} and the set of product indexes present.
    version_bodies: list = field(default_factory=list)
    version_products: list = field(default_factory=list)
    version_dates: list = field(default_factory=list)
    version_users: list = field(default_factory=list)
    version_comments: list = field(default_factory=list)
    edition_versions: list = field(default_factory=list)  # version indexes that were published
    approval_dates: list = field(default_factory=list)
    reviewers: list = field(default_factory=list)
    final_state: str = State.PUBLISHED
    revisions: list = field(default_factory=list)
    editions: list = field(default_factory=list)


def plan_history(rng, planned, versions, editors, reviewers, now):
    sections, products = planned.sections, planned.products
    n = versions
    bodies = [None] * n
    bodies[n - 1] = {i: s.body for i, s in enumerate(sections)}
    for k in range(n - 2, -1, -1):
        bodies[k] = dict(bodies[k + 1])
        for index in rng.sample(range(len(sections)), k=min(len(sections), rng.randint(1, 2))):
            bodies[k][index] = mutate_body(rng, bodies[k][index])
    added_at = [0] * len(products)
    if n >= 3:
        for j in range(len(products)):
            if j >= 2 and rng.random() < 0.3:
                added_at[j] = rng.randint(1, n - 1)
    planned.version_bodies = bodies
    planned.version_products = [{j for j in range(len(products)) if added_at[j] <= k} for k in range(n)]

    # Years of history: first saved 3 to 9 years ago, later edits weeks to a year apart, none in the future.
    start = now - datetime.timedelta(days=rng.randint(3 * 365, 9 * 365), seconds=rng.randint(0, 86400))
    gaps = [datetime.timedelta(days=rng.randint(14, 300), seconds=rng.randint(0, 86400)) for _ in range(n - 1)]
    room = now - datetime.timedelta(days=2) - start
    total = sum(gaps, datetime.timedelta(0))
    if total > room:  # a long history: squeeze the gaps in, keeping their proportions
        gaps = [gap * (room / total) for gap in gaps]
    dates = [start]
    for gap in gaps:
        dates.append(dates[-1] + gap)
    planned.version_dates = dates
    planned.version_users = [rng.choice(editors) for _ in range(n)]
    planned.version_comments = ["Initial import from the manufacturer's prescribing information"] + [
        rng.choice(REVISION_COMMENTS) for _ in range(n - 1)
    ]

    roll = rng.random()
    if n >= 2 and roll < 0.10:
        planned.final_state, last_published = State.DRAFT, n - 2
    elif n >= 2 and roll < 0.14:
        planned.final_state, last_published = State.IN_REVIEW, n - 2
    else:
        planned.final_state, last_published = State.PUBLISHED, n - 1
    published = [last_published]
    if last_published >= 2:
        published.insert(0, last_published // 2)
    planned.edition_versions = published
    planned.approval_dates = []
    for k in published:
        latest = (dates[k + 1] if k + 1 < n else now) - datetime.timedelta(hours=1)
        wanted = dates[k] + datetime.timedelta(hours=rng.randint(3, 240))
        planned.approval_dates.append(max(min(wanted, latest), dates[k] + datetime.timedelta(minutes=5)))
    planned.reviewers = [rng.choice(reviewers) for _ in published]


def class_row(drug_class):
    """The DrugClass row of a synthetic class, made the first time it is needed (a run may add
    to an existing formulary, so it is looked up, not remembered)."""
    row = DrugClassRow.objects.filter(name__iexact=drug_class.name).first()
    if row is None:
        row = DrugClassRow.objects.create(
            name=drug_class.name, name_zh=f"{drug_class.zh}類藥物", slug=slugify(drug_class.name)
        )
    return row


def field_dict(obj, **override):
    """`obj` as django-reversion's `Version.field_dict` reads it back: attribute names to values."""
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields} | override


def snapshot_of_plan(planned, k):
    """The snapshot of version k, built from the rows in memory by the same function that
    `snapshots.snapshot_of_revision` uses, so an edition equals what the workflow would copy."""
    present = [planned.products[j] for j in sorted(planned.version_products[k])]
    drug_class = planned.entry.drug_class
    return snapshot_from_field_dicts(
        planned.entry.pk,
        entry=field_dict(planned.entry)
        | {"drug_class": {"name": drug_class.name, "name_zh": drug_class.name_zh, "slug": drug_class.slug}},
        sections={s.pk: field_dict(s, body=planned.version_bodies[k][i]) for i, s in enumerate(planned.sections)},
        products={product.pk: field_dict(product) for product, _ in present},
        strengths={s.pk: field_dict(s) for _, strengths in present for s in strengths},
    )


def plan_entry(
    name,
    zh_name,
    drug_class,
    seed,
    products_per_entry,
    strengths_per_product,
    versions,
    editors,
    reviewers,
    now,
    numbers,
):
    """One entry with its sections, products and history, in memory; `numbers` hands out registration numbers."""
    rng = random.Random(f"{seed}:{name}")  # nosec B311
    synonyms = [
        zh_name,
        name.replace("ph", "f").replace("y", "i") if ("ph" in name or "y" in name) else name + "um",
        f"{name[:2].upper()}-{rng.randint(100, 9999)}",
    ]
    entry = Entry(
        generic_name=name,
        slug=slugify(name),
        synonyms="\n".join(synonyms),
        drug_class=class_row(drug_class),
        atc_code=f"{drug_class.atc}{rng.randint(1, 99):02d}",
        notes=SYNTHETIC_NOTE,
    )
    specs = product_specs(rng, name, drug_class, products_per_entry, strengths_per_product)
    products = []
    for spec in specs:
        product = Product(
            name=spec["name"],
            kind=spec["kind"],
            certificate_holder=spec["holder"],
            legal_classification=spec["legal"],
            sale_requirement=spec["sale"],
            formulary_status=spec["status"],
            notes=SYNTHETIC_NOTE,
        )
        strengths = [Strength(registration_number=numbers.take(), **s) for s in spec["strengths"]]
        for strength in strengths:
            strength.clean()  # the pack's count and unit, as a save through the services would read them
        products.append((product, strengths))
    sections = [
        Section(kind=kind, heading=heading, position=(i + 1) * 10, body=body)
        for i, (kind, heading, body) in enumerate(section_bodies(rng, name, zh_name, drug_class, specs))
    ]
    planned = PlannedEntry(entry=entry, sections=sections, products=products)
    plan_history(rng, planned, versions, editors, reviewers, now)
    entry.created_at = planned.version_dates[0]
    entry.updated_at = planned.version_dates[-1]
    return planned
