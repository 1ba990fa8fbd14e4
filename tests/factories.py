"""Builders for tests: staff users in their roles, entries with sections, products and
strengths, and published editions — all made through the services and the workflow,
the way people make them, so a test never builds a state the app could not reach."""

import functools
import io
import itertools
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.urls import reverse

from monographs import services, workflow
from monographs.models import Entry
from monographs.roles import sync_roles

_registration_numbers = itertools.count(10001)

# The seed monograph as the pharmacy supplies it, and the kinds of its sections in their order.
SEED = Path(__file__).resolve().parent.parent / "monographs" / "seeds" / "lenalidomide.txt"
SEED_KINDS = [
    "overview",
    "drug_class",
    "availability",
    "uses",
    "mechanism",
    "side_effects",
    "seek_help",
    "contraindications",
    "interactions",
    "storage",
    "disclaimer",
]

ENTRY_DEFAULTS = {"slug": "", "synonyms": "", "drug_class": "", "atc_code": "", "notes": ""}
PRODUCT_DEFAULTS = {
    "kind": "generic",
    "certificate_holder": "Test Holder Ltd",
    "legal_classification": "p1s1s3",
    "sale_requirement": "prescription",
    "formulary_status": "general",
    "notes": "",
}
STRENGTH_DEFAULTS = {
    "amount": "10",
    "unit": "mg",
    "per_amount": None,
    "per_unit": "",
    "dosage_form": "tablet",
    "route": "oral",
    "appearance": "white round tablet",
    "pack_size": "30 tablets",
}


def password_of(username):
    return f"pw-{username}-123"


@functools.cache
def _password_hash(password):
    # Argon2 is slow on purpose; hash each test password once per run.
    return make_password(password)


def make_user(username, *groups, superuser=False):
    """A staff user in the named role groups (Editors, Reviewers, Readers), with an email
    address and the password `password_of(username)`."""
    # Transactional tests flush the groups the migration made; put them back.
    sync_roles(Group, Permission)
    user = get_user_model().objects.create(
        username=username,
        email=f"{username}@example.org",
        password=_password_hash(password_of(username)),
        is_staff=True,
        is_superuser=superuser,
    )
    for name in groups:
        user.groups.add(Group.objects.get(name=name))
    return user


def product(name, *, strengths=1, **fields):
    """A product spec with `strengths` tablet strengths (10 mg, 20 mg, …) unless `strengths` is a list
    of strength field dicts (each gets a fresh HK registration number unless it names one)."""
    if isinstance(strengths, int):
        strengths = [{"amount": str(10 * (i + 1))} for i in range(strengths)]
    return {"name": name, **fields, "strengths": strengths}


def one_product(entry_name, *, status="general", legal="p1s3", registration=None, amount="500", per=None):
    """The single generic product "<entry_name> product" with one strength: a tablet, or an oral
    solution of `amount` mg per `per` mL."""
    strength = {"amount": amount, "registration_number": registration or _next_registration()}
    if per:
        strength.update(per_amount=per, per_unit="mL", dosage_form="oral_solution")
    return product(
        f"{entry_name} product",
        certificate_holder=f"{entry_name} Holder Ltd",
        formulary_status=status,
        legal_classification=legal,
        strengths=[strength],
    )


def _next_registration():
    return f"HK-{next(_registration_numbers):05d}"


def _entry_data(generic_name, sections, products, fields):
    data = {**ENTRY_DEFAULTS, **fields, "generic_name": generic_name}
    data["slug"] = data["slug"] or services.unique_slug(generic_name)
    data["sections"] = [
        {"heading": "", "position": position * 10, **section}
        if isinstance(section, dict)
        else {"kind": section[0], "heading": section[1], "position": position * 10, "body": section[2]}
        for position, section in enumerate(sections, start=1)
    ]
    data["products"] = []
    for spec in products:
        spec = {**PRODUCT_DEFAULTS, **spec}
        strengths = [
            {"registration_number": _next_registration(), **STRENGTH_DEFAULTS, **strength}
            for strength in spec.pop("strengths", [])
        ]
        data["products"].append({**spec, "strengths": strengths})
    return data


def make_entry(generic_name, *, user=None, sections=None, products=(), reason="Test data", **fields):
    """A draft entry with sections [(kind, heading, body)] (or dicts of Section fields, e.g. with
    "heading_zh" and "body_zh"), products (see `product`) and their strengths, saved as one
    revision by `user` through `services.entry_replace`."""
    if sections is None:
        sections = [("overview", "", f"{generic_name} is a medicine.")]
    entry, _created = services.entry_replace(
        data=_entry_data(generic_name, sections, products, fields), user=user, reason=reason
    )
    return Entry.objects.get(pk=entry.pk)


def publish(entry, *, editor, reviewer, comment="Checked", accept_stale_translations=False):
    """Submit the working copy as `editor` and approve exactly that revision as `reviewer`
    (ticking "publish with the Chinese text marked as outdated" if asked)."""
    submitted = workflow.submit(entry=entry, user=editor, comment="Ready")
    workflow.approve(
        entry=entry,
        revision=submitted.revision,
        user=reviewer,
        comment=comment,
        accept_stale_translations=accept_stale_translations,
    )
    return Entry.objects.get(pk=entry.pk)


def make_published(generic_name, *, editor, reviewer, **kwargs):
    return publish(make_entry(generic_name, user=editor, **kwargs), editor=editor, reviewer=reviewer)


def edit(entry, *, user, first_section_body=None, reason="Test edit", **fields):
    """Change the working copy (a new draft revision): entry fields and/or the first section's body."""
    if fields:
        services.entry_update(entry=entry, user=user, reason=reason, **fields)
    if first_section_body is not None:
        services.section_update(section=entry.sections.first(), user=user, reason=reason, body=first_section_body)
    return Entry.objects.get(pk=entry.pk)


BILINGUAL_SECTIONS = [
    {
        "kind": "overview",
        "body": "Lenalidomide is an immunomodulatory medicine.",
        "body_zh": "來那度胺是一種免疫調節藥物。",
    },
    {"kind": "side_effects", "body": "Tiredness and rash.", "body_zh": "疲倦及皮疹。"},
    {"kind": "storage", "body": "Store below 25 °C in the original pack."},
    {
        "kind": "other",
        "heading": "Counselling points",
        "heading_zh": "輔導要點",
        "body": "- Swallow the capsules whole with water.\n- Do not open, break or chew them.",
        "body_zh": "- 用水整粒吞服膠囊。\n- 不要打開、弄破或咀嚼膠囊。",
    },
]


def make_bilingual_entry(editor, *, stale_section=True, stale_warning=False):
    """Lenalidomide with an up-to-date Chinese overview, side effects whose English changed after
    the translation (stale, unless `stale_section` is False), storage never translated, and an
    "Other" section with its own headings; a Chinese boxed warning, synonyms and brand name."""
    entry = make_entry(
        "Lenalidomide",
        user=editor,
        chinese_name="來那度胺",
        chinese_synonyms="雷那度胺\n來那度胺膠囊",
        boxed_warning="Do not use in pregnancy.",
        boxed_warning_zh="懷孕期間不可使用。",
        sections=BILINGUAL_SECTIONS,
        products=[product("Revlimid", kind="brand", chinese_name="瑞復美")],
    )
    if stale_section:
        side_effects = entry.sections.get(kind="side_effects")
        services.section_update(
            section=side_effects, user=editor, reason="New PI", body="Tiredness, rash and low blood counts."
        )
    if stale_warning:
        entry = edit(entry, user=editor, boxed_warning="Do not use in pregnancy or when breastfeeding.")
    return entry


TEXT_CONSTRAINTS = {
    "monographs_entry": "entry_text_without_control_characters",
    "monographs_section": "section_text_without_control_characters",
    "monographs_product": "product_text_without_control_characters",
    "monographs_strength": "strength_text_without_control_characters",
}


def publish_predating_the_text_rule(entry, *, editor, reviewer, section_heading=None, section_body=None, **fields):
    """Publish `entry` with text the control-character rule now refuses (control characters,
    text-direction overrides) in entry `fields` and its first section: an edition approved
    before migration 0017, which editions (immutable) may still hold. The database's text
    constraints are dropped inside the test's transaction only (rolled back with it), and the
    save skips validation; the rest is the ordinary workflow. PostgreSQL only."""
    import reversion
    from django.db import connection

    with connection.cursor() as cursor:
        # ALTER TABLE refuses while the test's rows have deferred foreign-key checks pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table, name in TEXT_CONSTRAINTS.items():
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    section = entry.sections.order_by("position", "pk").first()
    with reversion.create_revision():
        for name, value in fields.items():
            setattr(entry, name, value)
        entry.save()
        if section_heading is not None:
            section.heading = section_heading
        if section_body is not None:
            section.body = section_body
        section.save()
        reversion.set_user(editor)
        reversion.set_comment("Pasted from a PDF before control characters were refused")
    return publish(Entry.objects.get(pk=entry.pk), editor=editor, reviewer=reviewer)


def admin_entry_url(entry, action="change"):
    """An entry's screen in the admin: its edit screen, or another ("review", "history", …)."""
    return reverse(f"admin:monographs_entry_{action}", args=[entry.pk])


def run_command(command, /, *args, **options):
    """Run the management command `command` as an operator would: what it wrote to stdout and
    to stderr. Positional-only, so a command's own `--name` option can be passed as `name=`."""
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command(command, *(str(arg) for arg in args), stdout=stdout, stderr=stderr, **options)
    return stdout.getvalue(), stderr.getvalue()
