"""Storage of the formulary's working copy: entries, their monograph sections,
products and strengths.

Every rule a user can break lives here, as field validators and database
constraints, so the admin, the importer and any API refuse the same input with
the same message. Writes go through `services`; public reads go through
`selectors`, which only see published editions.

django-reversion tracks the four content models, registered where they are
defined. Each follows its parent as well as its children, so a save anywhere
(an entry, one product, one strength) records one revision holding the whole
entry: its sections, products and strengths. Reviews and restores work on that
unit.
"""

import hashlib
import re
from decimal import Decimal, InvalidOperation

import reversion
from django.conf import settings
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce, Length, Lower
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .packs import MAX_COUNT as PACK_MAX_COUNT
from .packs import parse_pack
from .text_rules import FORBIDDEN_PATTERN, NO_CONTROL_CHARACTERS_MESSAGE, strip_controls, validate_text
from .vocabulary import (
    DosageForm,
    FormularyStatus,
    LegalClass,
    PackUnit,
    ProductKind,
    Route,
    SaleRequirement,
    SectionKind,
    Unit,
)

REGISTRATION_NUMBER_PATTERN = r"^HK-[0-9]{5}$"
# ATC codes may be given at any of the five levels: A, A10, A10B, A10BA, A10BA02.
ATC_PATTERN = r"^[A-Z]([0-9]{2}([A-Z]([A-Z]([0-9]{2})?)?)?)?$"

# How people type a number from the box: HK-12345, hk12345, HK 12345, HK–12345 or just 12345.
_TYPED_REGISTRATION_NUMBER = re.compile(r"(?:HK\s*[-‐‑–—]?\s*)?([0-9]{5})", re.IGNORECASE)


def registration_number_in(text):
    """The HK registration number `text` is, written as stored (HK-12345), or None.

    Accepts what is typed from a box: any case, with or without HK, a dash or spaces."""
    match = _TYPED_REGISTRATION_NUMBER.fullmatch((text or "").strip())
    return f"HK-{match.group(1)}" if match else None


validate_registration_number = RegexValidator(
    REGISTRATION_NUMBER_PATTERN,
    _("Enter a Hong Kong registration number as HK- followed by 5 digits, e.g. HK-12345."),
    code="registration_number",
)
# A section body is reviewed word by word: the diff of two 10,000-word bodies
# (about 62,000 characters) takes about 30 ms, but without a limit an editor
# could save a body of megabytes that no reviewer can read and every diff page
# must carry. 100,000 characters is about 16,000 English words or
# 100,000 Chinese characters: far beyond any monograph section (the whole seed
# monograph, eleven sections, has about 5,000), and its diff still takes well
# under a second. A longer text belongs in several sections. Migration 0008 repeats the
# number: change both together.
SECTION_BODY_MAX_LENGTH = 100_000
SECTION_BODY_TOO_LONG = format_lazy(
    _("A section body can have at most {limit} characters; split a longer text into several sections."),
    limit=f"{SECTION_BODY_MAX_LENGTH:,}",
)
validate_section_body_length = MaxLengthValidator(SECTION_BODY_MAX_LENGTH, SECTION_BODY_TOO_LONG)

validate_atc_code = RegexValidator(
    ATC_PATTERN,
    _("Enter an ATC code such as L04AX04 (letter, 2 digits, 2 letters, 2 digits), or a shorter level of it."),
    code="atc_code",
)


def format_amount(value):
    """A stored amount as people write it: Decimal("2.5000") or "2.5000" -> "2.5", 5 -> "5"."""
    try:
        return format(Decimal(str(value)).normalize(), "f")
    except (InvalidOperation, ValueError):
        return str(value)


def strength_text(amount, unit, per_amount=None, per_unit=""):
    """'2.5 mg' or '250 mg per 5 mL': the one way a strength is written, on pages, in the API,
    FHIR, the diff, the admin and messages."""
    text = f"{format_amount(amount)} {unit}"
    if per_amount in (None, ""):
        return text
    return gettext("%(amount)s per %(per_amount)s %(per_unit)s") % {
        "amount": text,
        "per_amount": format_amount(per_amount),
        "per_unit": per_unit,
    }


STRENGTH_IDENTITY_FIELDS = ("amount", "unit", "per_amount", "per_unit", "dosage_form")
# per_amount and per_unit may be left out of a mapping: a unit-dose strength.


def strength_identity(values):
    """What `strength_unique_per_product` compares, from a mapping of STRENGTH_IDENTITY_FIELDS:
    two strengths with one identity collide.

    Amounts compare as numbers (2.5 == 2.5000) and a missing per amount as 0,
    exactly as the database's expression index does.
    """
    return (
        Decimal(str(values["amount"])),
        values["unit"],
        Decimal(str(values.get("per_amount") or 0)),
        values.get("per_unit") or "",
        values["dosage_form"],
    )


# Free-text fields refuse control characters and text-direction overrides (`text_rules`):
# each has the field validator `validate_text`, and each model one CHECK constraint over
# all of them (one query when a form validates constraints, not one per field).
ENTRY_TEXT_FIELDS = (
    "generic_name",
    "synonyms",
    "notes",
    "chinese_name",
    "boxed_warning",
    "chinese_synonyms",
    "boxed_warning_zh",
)
SECTION_TEXT_FIELDS = ("heading", "body", "heading_zh", "body_zh")
PRODUCT_TEXT_FIELDS = ("name", "chinese_name", "certificate_holder", "notes")
STRENGTH_TEXT_FIELDS = ("appearance", "pack_size")


def _without_control_characters(prefix, fields):
    return models.CheckConstraint(
        condition=Q(*(~Q(**{f"{name}__regex": FORBIDDEN_PATTERN}) for name in fields)),
        name=f"{prefix}_text_without_control_characters",
        violation_error_message=NO_CONTROL_CHARACTERS_MESSAGE,
    )


def split_lines(text):
    """Non-blank lines of a one-item-per-line field such as synonyms, trimmed."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def normalise_newlines(text):
    # Browsers submit textareas with CRLF; stored text uses LF so that saving
    # an unchanged form changes nothing and diffs show only real edits.
    return text.replace("\r\n", "\n").replace("\r", "\n") if text else text


# --- Traditional Chinese text beside the English -----------------------------
# Each Chinese text records a fingerprint of the English it translates (`*_zh_source`).
# When the English changes afterwards the fingerprints differ and the translation is
# *stale*: flagged in the admin, listed at review and marked on the public page. Saving a
# changed Chinese text, or ticking "checked against the current English", records the
# English as it is now: a translation is vouched for by the person who saved it.
TRANSLATION_SOURCE_PATTERN = r"^([0-9a-f]{64})?$"
validate_translation_source = RegexValidator(
    TRANSLATION_SOURCE_PATTERN, _("A translation source is a SHA-256 fingerprint."), code="translation_source"
)


class TranslationStatus(models.TextChoices):
    CURRENT = "current", _("up to date")
    STALE = "stale", _("outdated: the English changed since")
    MISSING = "missing", _("missing")


def english_fingerprint(*texts):
    """SHA-256 of the English a Chinese text translates (heading and body of a section,
    or the boxed warning), with newlines normalised so a browser's CRLF changes nothing."""
    joined = "\x1f".join(normalise_newlines((text or "").strip()) for text in texts)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()


def translation_status(*, english, chinese, source):
    """TranslationStatus of a Chinese text: `english` is the tuple of English texts it
    translates, `chinese` its text, `source` the fingerprint recorded with it. One rule,
    read by the admin, the review screen, the pages and the API (on model rows and on
    edition snapshots alike)."""
    if not (chinese or "").strip():
        return TranslationStatus.MISSING
    if source != english_fingerprint(*english):
        return TranslationStatus.STALE
    return TranslationStatus.CURRENT


# A class name as people write it once: words parted by single spaces, nothing at either end
# (so "Biguanide" and "Biguanide " cannot be two classes; case is compared by
# `drug_class_name_unique`). \A and \Z mean the same in Python and PostgreSQL.
CLASS_NAME_PATTERN = r"\A\S+( \S+)*\Z"
CLASS_SLUG_PATTERN = r"\A[a-z0-9]+(-[a-z0-9]+)*\Z"
CLASS_NAME_SPACING_MESSAGE = _("Write the class name without spaces at either end, line breaks or double spaces.")
validate_class_name = RegexValidator(CLASS_NAME_PATTERN, CLASS_NAME_SPACING_MESSAGE, code="class_name_spacing")
validate_class_slug = RegexValidator(
    CLASS_SLUG_PATTERN,
    _("Use lowercase letters, digits and single hyphens, e.g. biguanide or beta-blocker."),
    code="class_slug",
)
PACK_COUNT_WITH_UNIT_MESSAGE = _("A pack count needs its unit, and a unit its count (1 to 99,999).")


def normalise_class_name(name):
    """A typed class name as stored: spaces collapsed and trimmed (case kept)."""
    return " ".join((name or "").split())


@reversion.register()
class DrugClass(models.Model):
    """A pharmacological class (English and Traditional Chinese name), which entries refer to,
    so one class has one spelling on every page and in both languages.

    Versioned by django-reversion; an entry's revision follows its class, so an edition
    carries both names as they stood when it was reviewed (public pages read only that)."""

    name = models.CharField(
        _("name"),
        max_length=200,
        unique=True,
        validators=[validate_text, validate_class_name],
        help_text=_("English name, e.g. Immunomodulatory imide drug. Unique whatever its case."),
    )
    name_zh = models.CharField(
        _("Chinese name"),
        max_length=200,
        blank=True,
        validators=[validate_text, validate_class_name],
        help_text=_("Traditional Chinese name, e.g. 免疫調節醯亞胺類藥物. Check it against the glossary."),
    )
    slug = models.SlugField(
        _("slug"),
        max_length=200,
        unique=True,
        validators=[validate_class_slug],
        help_text=_("Web address part of the class page, e.g. immunomodulatory-imide-drug."),
    )

    class Meta:
        ordering = [Lower("name")]
        verbose_name = _("drug class")
        verbose_name_plural = _("drug classes")
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="drug_class_name_unique",
                violation_error_message=_("A drug class of this name already exists (whatever its case)."),
            ),
            models.UniqueConstraint(
                fields=["name_zh"],
                condition=~Q(name_zh=""),
                name="drug_class_name_zh_unique",
                violation_error_message=_("Another drug class already has this Chinese name."),
            ),
            models.CheckConstraint(
                condition=Q(name__regex=CLASS_NAME_PATTERN) & (Q(name_zh="") | Q(name_zh__regex=CLASS_NAME_PATTERN)),
                name="drug_class_name_spacing",
                violation_error_message=CLASS_NAME_SPACING_MESSAGE,
            ),
            models.CheckConstraint(
                condition=Q(slug__regex=CLASS_SLUG_PATTERN),
                name="drug_class_slug_shape",
                violation_error_message=validate_class_slug.message,
            ),
            _without_control_characters("drug_class", ("name", "name_zh")),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        self.name = normalise_class_name(self.name)
        self.name_zh = normalise_class_name(self.name_zh)


class _TracksTranslation:
    """Keeps `<prefix>_zh_source` true on every save through the model (admin, services,
    importer), using the values as loaded from the database, so no query is spent.

    Set `translation_checked = True` on an instance before saving to record that someone
    checked its Chinese text against the current English. A restore (django-reversion
    saves raw) brings back the fingerprints of the revision as they were. Set
    `translation_as_recorded = True` to keep the fingerprint and date already set on the
    instance (an export file carries them, so a stale translation stays stale when moved)."""

    translation_fields = ()  # (english fields, chinese fields, source field, english-changed-at field or "")

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._loaded_text = {
            name: getattr(instance, name)
            for english, chinese, _source, _at in cls.translation_fields
            for name in (*english, *chinese)
            if name in field_names
        }
        return instance

    def _track_translations(self):
        if getattr(self, "translation_as_recorded", False):
            return
        loaded = getattr(self, "_loaded_text", None)
        checked = getattr(self, "translation_checked", False)
        for english, chinese, source, changed_at in self.translation_fields:

            def differs(names):
                return loaded is None or any(loaded.get(n, getattr(self, n)) != getattr(self, n) for n in names)

            if changed_at and differs(english):
                setattr(self, changed_at, timezone.now())
            if not any((getattr(self, n) or "").strip() for n in chinese):
                setattr(self, source, "")
            elif checked or differs(chinese) or not getattr(self, source):
                setattr(self, source, english_fingerprint(*(getattr(self, n) for n in english)))

    def save(self, *args, **kwargs):
        self._track_translations()
        super().save(*args, **kwargs)
        self._loaded_text = {
            name: getattr(self, name)
            for english, chinese, _source, _at in self.translation_fields
            for name in (*english, *chinese)
        }
        self.translation_checked = False
        self.translation_as_recorded = False


@reversion.register(follow=["sections", "products", "drug_class"])
class Entry(_TracksTranslation, models.Model):
    """One formulary entry: an active ingredient or a fixed combination."""

    generic_name = models.CharField(
        _("generic name"),
        validators=[validate_text],
        max_length=200,
        unique=True,
        help_text=_("International non-proprietary name, e.g. Lenalidomide."),
    )
    slug = models.SlugField(
        _("slug"),
        max_length=200,
        unique=True,
        help_text=_("Web address part of the public page, e.g. lenalidomide."),
    )
    synonyms = models.TextField(
        _("synonyms"),
        validators=[validate_text],
        blank=True,
        help_text=_("Other names and spellings, one per line. Search finds the entry by these."),
    )
    drug_class = models.ForeignKey(
        DrugClass,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="entries",
        verbose_name=_("drug class"),
        help_text=_("Pharmacological class, e.g. immunomodulatory imide drug (drug classes are edited on their own)."),
    )
    atc_code = models.CharField(
        _("ATC code"),
        max_length=7,
        blank=True,
        validators=[validate_atc_code],
        help_text=_("WHO Anatomical Therapeutic Chemical code, e.g. L04AX04. Optional."),
    )
    notes = models.TextField(
        _("internal notes"),
        validators=[validate_text],
        blank=True,
        help_text=_("Notes for pharmacists; never shown on public pages."),
    )
    chinese_name = models.CharField(
        _("Chinese name"),
        validators=[validate_text],
        max_length=200,
        blank=True,
        help_text=_("Traditional Chinese name as the Drug Office lists it, e.g. 來那度胺."),
    )
    # Safety flags: what staff must warn about. Each is reviewed and published with the
    # entry; "dangerous drug" is not here because it follows from the products' legal class.
    pregnancy_warning = models.BooleanField(
        _("harmful in pregnancy"),
        default=False,
        help_text=_("Teratogenic or otherwise contraindicated in pregnancy; shown as a warning badge."),
    )
    pregnancy_prevention_programme = models.BooleanField(
        _("pregnancy prevention programme"),
        default=False,
        help_text=_("Supply only under a pregnancy prevention programme (e.g. thalidomide analogues)."),
    )
    high_alert = models.BooleanField(
        _("high-alert medication"),
        default=False,
        help_text=_("A high-alert medication (ISMP list): errors cause significant harm; double-check."),
    )
    cytotoxic = models.BooleanField(
        _("cytotoxic / hazardous"),
        default=False,
        help_text=_("Cytotoxic or hazardous: handle, dispense and dispose of with hazardous-drug precautions."),
    )
    boxed_warning = models.CharField(
        _("boxed warning"),
        validators=[validate_text],
        max_length=500,
        blank=True,
        help_text=_(
            "A short warning shown in a box under the name, e.g. 'Do not use in pregnancy.' At most 500 characters."
        ),
    )
    chinese_synonyms = models.TextField(
        _("Chinese synonyms"),
        validators=[validate_text],
        blank=True,
        help_text=_(
            "Other Chinese names, one per line (e.g. a Cantonese or older name). Search finds the entry by these."
        ),
    )
    boxed_warning_zh = models.CharField(
        _("boxed warning (Chinese)"),
        validators=[validate_text],
        max_length=500,
        blank=True,
        help_text=_("Traditional Chinese text of the boxed warning. At most 500 characters."),
    )
    boxed_warning_zh_source = models.CharField(
        _("boxed warning translated from"),
        max_length=64,
        blank=True,
        validators=[validate_translation_source],
        help_text=_("Fingerprint of the English boxed warning the Chinese text was made from; set on save."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, help_text=_("When the entry was created."))
    updated_at = models.DateTimeField(
        _("updated at"), auto_now=True, help_text=_("When the working copy last changed.")
    )

    translation_fields = ((("boxed_warning",), ("boxed_warning_zh",), "boxed_warning_zh_source", ""),)

    class Meta:
        ordering = ["generic_name"]
        verbose_name = _("formulary entry")
        verbose_name_plural = _("formulary entries")
        constraints = [
            models.CheckConstraint(
                condition=Q(atc_code="") | Q(atc_code__regex=ATC_PATTERN),
                name="entry_atc_code_shape",
                violation_error_message=validate_atc_code.message,
            ),
            models.CheckConstraint(
                condition=Q(pregnancy_prevention_programme=False) | Q(pregnancy_warning=True),
                name="entry_programme_needs_pregnancy_warning",
                violation_error_message=_(
                    "A pregnancy prevention programme applies only to a medicine marked harmful in pregnancy."
                ),
            ),
            models.CheckConstraint(
                condition=Q(boxed_warning_zh_source__regex=TRANSLATION_SOURCE_PATTERN),
                name="entry_boxed_warning_zh_source_shape",
                violation_error_message=validate_translation_source.message,
            ),
            _without_control_characters("entry", ENTRY_TEXT_FIELDS),
        ]

    def __str__(self):
        return self.generic_name

    def clean(self):
        self.synonyms = normalise_newlines(self.synonyms)
        self.chinese_synonyms = normalise_newlines(self.chinese_synonyms)
        self.notes = normalise_newlines(self.notes)

    @property
    def boxed_warning_translation(self):
        """TranslationStatus of the Chinese boxed warning, or None when there is no English one."""
        if not self.boxed_warning.strip():
            return None
        return translation_status(
            english=(self.boxed_warning,), chinese=self.boxed_warning_zh, source=self.boxed_warning_zh_source
        )


@reversion.register(follow=["entry"])
class Section(_TracksTranslation, models.Model):
    """One section of an entry's monograph, in an explicit order."""

    entry = models.ForeignKey(
        Entry,
        on_delete=models.CASCADE,
        related_name="sections",
        help_text=_("The entry whose monograph this section belongs to."),
    )
    kind = models.CharField(
        _("kind"),
        max_length=32,
        choices=SectionKind.choices,
        help_text=_("What the section is about; decides its standard heading."),
    )
    heading = models.CharField(
        _("heading"),
        validators=[validate_text],
        max_length=200,
        blank=True,
        help_text=_("Own heading. Required for kind 'Other'; otherwise replaces the standard heading if given."),
    )
    position = models.PositiveIntegerField(
        _("position"),
        default=0,
        help_text=_("Order of the section in the monograph; lower comes first."),
    )
    # Not max_length: the browser would then cut a longer paste silently
    # (a textarea's maxlength); the validator says why it is refused instead.
    body = models.TextField(
        _("body"),
        validators=[validate_text, validate_section_body_length],
        help_text=format_lazy(
            "{} {}",
            _(
                "Paragraphs separated by a blank line; bullet list items start with '- '. "
                "**bold** and *italic* are allowed; HTML is not."
            ),
            format_lazy(_("At most {limit} characters."), limit=f"{SECTION_BODY_MAX_LENGTH:,}"),
        ),
    )
    heading_zh = models.CharField(
        _("heading (Chinese)"),
        validators=[validate_text],
        max_length=200,
        blank=True,
        help_text=_("Traditional Chinese heading; needed only where the English has its own heading."),
    )
    body_zh = models.TextField(
        _("body (Chinese)"),
        blank=True,
        validators=[validate_text, validate_section_body_length],
        help_text=format_lazy(
            "{} {}",
            _(
                "Traditional Chinese text of this section, in the same format as the English. Leave empty if not translated."
            ),
            format_lazy(_("At most {limit} characters."), limit=f"{SECTION_BODY_MAX_LENGTH:,}"),
        ),
    )
    zh_source = models.CharField(
        _("translated from"),
        max_length=64,
        blank=True,
        validators=[validate_translation_source],
        help_text=_("Fingerprint of the English heading and body the Chinese text was made from; set on save."),
    )
    english_updated_at = models.DateTimeField(
        _("English updated at"),
        null=True,
        blank=True,
        help_text=_("When the English heading or body last changed; a stale translation's notice gives this date."),
    )

    translation_fields = ((("heading", "body"), ("heading_zh", "body_zh"), "zh_source", "english_updated_at"),)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("monograph section")
        verbose_name_plural = _("monograph sections")
        constraints = [
            # The choices are the validator; this keeps a kind outside the vocabulary (a typo in
            # a script, a row written by hand) out of the table, where no page could title it.
            models.CheckConstraint(
                condition=Q(kind__in=SectionKind.values),
                name="section_kind_known",
                violation_error_message=_("Unknown section kind."),
            ),
            models.CheckConstraint(
                condition=~Q(kind=SectionKind.OTHER) | ~Q(heading=""),
                name="section_other_has_heading",
                violation_error_message=_("A section of kind 'Other' needs its own heading."),
            ),
            # On PostgreSQL added NOT VALID (migration 0008): rows longer before it stay as they were.
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("body"), SECTION_BODY_MAX_LENGTH),
                name="section_body_max_length",
                violation_error_message=SECTION_BODY_TOO_LONG,
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("body_zh"), SECTION_BODY_MAX_LENGTH),
                name="section_body_zh_max_length",
                violation_error_message=SECTION_BODY_TOO_LONG,
            ),
            models.CheckConstraint(
                condition=Q(zh_source__regex=TRANSLATION_SOURCE_PATTERN),
                name="section_zh_source_shape",
                violation_error_message=validate_translation_source.message,
            ),
            _without_control_characters("section", SECTION_TEXT_FIELDS),
        ]

    def __str__(self):
        return self.title

    def clean(self):
        self.body = normalise_newlines(self.body)
        self.body_zh = normalise_newlines(self.body_zh)

    @property
    def title(self):
        return self.heading or self.get_kind_display()

    @property
    def translation(self):
        """TranslationStatus of this section's Chinese text."""
        return translation_status(english=(self.heading, self.body), chinese=self.body_zh, source=self.zh_source)


@reversion.register(follow=["entry", "strengths"])
class Product(models.Model):
    """A brand or generic product of an entry's active ingredient."""

    entry = models.ForeignKey(
        Entry,
        on_delete=models.CASCADE,
        related_name="products",
        help_text=_("The active ingredient this product contains."),
    )
    name = models.CharField(
        _("product name"),
        max_length=200,
        validators=[validate_text],
        help_text=_("Name as registered, e.g. Revlimid."),
    )
    chinese_name = models.CharField(
        _("Chinese name"),
        validators=[validate_text],
        max_length=200,
        blank=True,
        help_text=_("Chinese product name as registered or on the box, e.g. 瑞復美."),
    )
    kind = models.CharField(
        _("brand or generic"),
        max_length=16,
        choices=ProductKind.choices,
        help_text=_("Originator brand or generic product."),
    )
    certificate_holder = models.CharField(
        _("certificate holder"),
        validators=[validate_text],
        max_length=200,
        help_text=_("Holder of the Hong Kong registration (marketing-authorisation holder)."),
    )
    legal_classification = models.CharField(
        _("legal classification"),
        max_length=32,
        choices=LegalClass.choices,
        help_text=_("Legal classification as the Drug Office lists it."),
    )
    sale_requirement = models.CharField(
        _("sale requirement"),
        max_length=16,
        choices=SaleRequirement.choices,
        help_text=_("Who may supply it: prescription only, pharmacy only or over the counter."),
    )
    formulary_status = models.CharField(
        _("HA formulary status"),
        max_length=32,
        choices=FormularyStatus.choices,
        help_text=_("Hospital Authority Drug Formulary category."),
    )
    notes = models.TextField(
        _("notes"), blank=True, validators=[validate_text], help_text=_("Notes shown with the product.")
    )

    class Meta:
        ordering = ["kind", "name", "id"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [
            models.UniqueConstraint(
                fields=["entry", "name", "certificate_holder"],
                name="product_unique_per_holder",
                violation_error_message=_(
                    "This entry already has a product of that name from that certificate holder."
                ),
            ),
            _without_control_characters("product", PRODUCT_TEXT_FIELDS),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        self.notes = normalise_newlines(self.notes)


@reversion.register(follow=["product"])
class Strength(models.Model):
    """A registered presentation of a product: amount and unit, optionally per
    an amount of vehicle (250 mg per 5 mL), in one dosage form.

    In Hong Kong each strength and form carries its own registration number.
    """

    product = models.ForeignKey(
        Product,
        on_delete=models.CASCADE,
        related_name="strengths",
        help_text=_("The product this presentation belongs to."),
    )
    amount = models.DecimalField(
        _("amount"),
        max_digits=12,
        decimal_places=4,
        help_text=_("Amount of active ingredient, a positive number, e.g. 2.5."),
    )
    unit = models.CharField(_("unit"), max_length=8, choices=Unit.choices, help_text=_("Unit of the amount."))
    per_amount = models.DecimalField(
        _("per amount"),
        max_digits=12,
        decimal_places=4,
        null=True,
        blank=True,
        help_text=_(
            "Amount of vehicle the strength is given per, e.g. 5 in '250 mg per 5 mL'. Leave empty for a unit dose."
        ),
    )
    per_unit = models.CharField(
        _("per unit"),
        max_length=8,
        choices=Unit.choices,
        blank=True,
        help_text=_("Unit of the vehicle amount, e.g. mL. Required when a per amount is given."),
    )
    dosage_form = models.CharField(
        _("dosage form"), max_length=32, choices=DosageForm.choices, help_text=_("Pharmaceutical form.")
    )
    route = models.CharField(_("route"), max_length=16, choices=Route.choices, help_text=_("Route of administration."))
    appearance = models.CharField(
        _("appearance"),
        validators=[validate_text],
        max_length=300,
        blank=True,
        help_text=_("How to recognise it, e.g. 'white-green capsule marked REV 2.5 mg'."),
    )
    pack_size = models.CharField(
        _("pack size"),
        max_length=100,
        blank=True,
        validators=[validate_text],
        help_text=_(
            "Pack as supplied, e.g. '21 capsules': read on save as a count and a unit (shown as 「21 粒」 in "
            "Chinese); text that is not one count of one unit is kept and shown as typed."
        ),
    )
    pack_count = models.PositiveIntegerField(
        _("pack count"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(PACK_MAX_COUNT)],
        help_text=_("How many units a pack holds, read from the pack size (21 in '21 capsules')."),
    )
    pack_unit = models.CharField(
        _("pack unit"),
        max_length=16,
        choices=PackUnit.choices,
        blank=True,
        help_text=_("What the pack is counted in, read from the pack size (capsule in '21 capsules')."),
    )
    registration_number = models.CharField(
        _("HK registration number"),
        max_length=8,
        blank=True,
        validators=[validate_registration_number],
        help_text=_(
            "Hong Kong registration number, HK- and 5 digits. Leave empty for hospital-prepared or "
            "specially imported items."
        ),
    )

    class Meta:
        ordering = ["dosage_form", "amount", "id"]
        verbose_name = _("strength")
        verbose_name_plural = _("strengths")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="strength_amount_positive",
                violation_error_message=_("The amount must be greater than zero."),
            ),
            models.CheckConstraint(
                condition=Q(per_amount__isnull=True, per_unit="") | Q(per_amount__gt=0) & ~Q(per_unit=""),
                name="strength_per_amount_with_unit",
                violation_error_message=_("Give both a per amount (greater than zero) and its unit, or neither."),
            ),
            models.CheckConstraint(
                condition=Q(registration_number="") | Q(registration_number__regex=REGISTRATION_NUMBER_PATTERN),
                name="strength_registration_number_shape",
                violation_error_message=validate_registration_number.message,
            ),
            models.UniqueConstraint(
                fields=["registration_number"],
                condition=~Q(registration_number=""),
                name="strength_registration_number_unique",
                violation_error_message=_("Another strength already has this registration number."),
            ),
            # A missing per amount counts as one value, so two unit-dose strengths
            # of 5 mg collide (plain NULLs would never be equal).
            models.UniqueConstraint(
                "product",
                "amount",
                "unit",
                Coalesce("per_amount", 0, output_field=models.DecimalField(max_digits=12, decimal_places=4)),
                "per_unit",
                "dosage_form",
                name="strength_unique_per_product",
                violation_error_message=_("This product already has this strength in this dosage form."),
            ),
            models.CheckConstraint(
                condition=Q(pack_count__isnull=True, pack_unit="")
                | Q(pack_count__gte=1, pack_count__lte=PACK_MAX_COUNT) & ~Q(pack_unit=""),
                name="strength_pack_count_with_unit",
                violation_error_message=PACK_COUNT_WITH_UNIT_MESSAGE,
            ),
            _without_control_characters("strength", STRENGTH_TEXT_FIELDS),
        ]

    def __str__(self):
        return f"{self.display_strength} {self.get_dosage_form_display()}"

    def clean(self):
        # The text as typed is the editor's; the count and unit are what it says, read on every save.
        pack = parse_pack(self.pack_size)
        self.pack_count, self.pack_unit = (pack.count, pack.unit) if pack else (None, "")

    def identity(self):
        """See `strength_identity`."""
        return strength_identity({name: getattr(self, name) for name in STRENGTH_IDENTITY_FIELDS})

    @property
    def display_strength(self):
        return strength_text(self.amount, self.unit, self.per_amount, self.per_unit)


class State(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    PUBLISHED = "published", _("Published")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    # Approved; the edition goes live at its effective time (the previous one, if any, stays live until then).
    SCHEDULED = "scheduled", _("Approved, scheduled")


class EntryState(models.Model):
    """Where an entry's working copy stands in review, and which edition is live.

    Kept outside the versioned Entry so restoring an old version can never
    restore an old workflow state. Changed only by `monographs.workflow`.
    """

    entry = models.OneToOneField(
        Entry,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="state",
        help_text=_("The entry whose review state this is."),
    )
    state = models.CharField(
        _("state"),
        max_length=16,
        choices=State.choices,
        default=State.DRAFT,
        help_text=_("Review state of the working copy."),
    )
    submitted_revision = models.ForeignKey(
        "reversion.Revision",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The revision under review; frozen from submission until approval or rejection."),
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Who submitted the revision under review."),
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True, help_text=_("When it was submitted."))
    live_edition = models.OneToOneField(
        "Edition",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="live_state",
        help_text=_("The published edition public pages show; empty when never published or withdrawn."),
    )
    next_review_due = models.DateField(
        _("next review due"),
        null=True,
        blank=True,
        help_text=_("Date by which the published monograph should be reviewed again."),
    )
    scheduled_edition = models.OneToOneField(
        "Edition",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="scheduled_state",
        help_text=_("An approved edition waiting for its effective time to go live; empty when none is."),
    )
    publications = models.BigIntegerField(
        _("publications"),
        default=0,
        editable=False,
        help_text=_("How many times this entry's public page has changed (published, gone live, withdrawn)."),
    )
    live_since = models.DateTimeField(
        _("live since"),
        null=True,
        blank=True,
        help_text=_(
            "When the live edition went live (at approval, or when a scheduled edition was published): "
            "what API sync clients, feeds and FHIR's lastUpdated count as its publication."
        ),
    )
    withdraw_at = models.DateTimeField(
        _("withdrawal scheduled for"),
        null=True,
        blank=True,
        help_text=_("When the live edition is to be taken off the public pages; empty when no withdrawal is planned."),
    )

    class Meta:
        verbose_name = _("review state")
        verbose_name_plural = _("review states")
        permissions = [
            ("submit_entry", _("Can submit entries for review")),
            ("review_entry", _("Can approve or reject entries")),
            ("withdraw_entry", _("Can withdraw published entries")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(state=State.IN_REVIEW) | Q(submitted_revision__isnull=False),
                name="state_in_review_has_revision",
            ),
            models.CheckConstraint(
                condition=~Q(state=State.PUBLISHED) | Q(live_edition__isnull=False),
                name="state_published_has_live_edition",
            ),
            models.CheckConstraint(
                condition=~Q(state=State.SCHEDULED) | Q(scheduled_edition__isnull=False),
                name="state_scheduled_has_scheduled_edition",
            ),
            # Only a live edition can be withdrawn later.
            models.CheckConstraint(
                condition=Q(withdraw_at__isnull=True) | Q(live_edition__isnull=False),
                name="state_withdrawal_needs_live_edition",
            ),
        ]

    def __str__(self):
        return f"{self.entry}: {self.get_state_display()}"


class PublicationCounter(models.Model):
    """One row counting every change to what the public sees (publication, go-live, withdrawal).

    Incremented inside the publishing transaction (`workflow`), so the new value is visible
    exactly when the change is: a request that reads it after the commit renders the new state.
    The shared page cache keys every page that can list entries by it (an entry's own pages by
    `EntryState.publications`, moved in the same transaction), and by the database's identity
    (`publication.publication_stamp`), so PostgreSQL is the one truth and Redis only a copy:
    no publication depends on a Redis write succeeding. The row lock also orders
    publications, so the value never goes back and two commits never share a value.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    value = models.BigIntegerField(
        _("publications"), default=0, help_text=_("How many times the public formulary has changed.")
    )
    changed_at = models.DateTimeField(
        _("last changed"), null=True, blank=True, help_text=_("When the public formulary last changed.")
    )

    class Meta:
        verbose_name = _("publication counter")
        verbose_name_plural = _("publication counter")
        constraints = [models.CheckConstraint(condition=Q(id=1), name="publication_counter_single_row")]

    def __str__(self):
        return str(self.value)


class ImmutableRecordError(Exception):
    """Raised on an attempt to change or delete an append-only record."""


class AppendOnlyModel(models.Model):
    """Rows are written once and never changed or deleted (PostgreSQL enforces it too, migration 0004)."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableRecordError(f"{self._meta.verbose_name_plural.capitalize()} are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableRecordError(f"{self._meta.verbose_name_plural.capitalize()} are append-only.")


class EditionQuerySet(models.QuerySet):
    def live(self):
        return self.filter(live_state__isnull=False)


class Edition(AppendOnlyModel):
    """An immutable snapshot of exactly the revision a reviewer approved.

    Public pages and search read only from editions, so what the public sees
    is by construction what was reviewed, whatever happens to the working copy.
    """

    entry = models.ForeignKey(
        Entry, on_delete=models.PROTECT, related_name="editions", help_text=_("The entry this edition publishes.")
    )
    number = models.PositiveIntegerField(_("edition number"), help_text=_("1 for the first publication, then 2, 3…"))
    revision = models.ForeignKey(
        "reversion.Revision",
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The reviewed revision this edition was made from."),
    )
    generic_name = models.CharField(
        _("generic name"), max_length=200, help_text=_("Copied from the snapshot for listing.")
    )
    slug = models.SlugField(_("slug"), max_length=200, help_text=_("Copied from the snapshot for the public address."))
    drug_class = models.CharField(
        _("drug class"), max_length=200, blank=True, help_text=_("English name of the class, copied for browsing.")
    )
    drug_class_zh = models.CharField(
        _("drug class (Chinese)"), max_length=200, blank=True, help_text=_("Chinese name of the class, copied.")
    )
    drug_class_slug = models.SlugField(
        _("drug class slug"), max_length=200, blank=True, help_text=_("The class page's address part, copied.")
    )
    brand_names = models.JSONField(
        _("brand names"),
        default=list,
        blank=True,
        help_text=_("Brand product names, copied for lists and search results."),
    )
    excerpt = models.TextField(
        _("excerpt"), blank=True, help_text=_("Plain-text opening of the monograph, copied for search results.")
    )
    chinese_name = models.CharField(
        _("Chinese name"), max_length=200, blank=True, help_text=_("Copied from the snapshot for lists and titles.")
    )
    safety_flags = models.JSONField(
        _("safety flags"),
        default=list,
        blank=True,
        help_text=_("SafetyFlag codes in badge order, copied so lists and search results show badges."),
    )
    formulary_statuses = models.JSONField(
        _("HA formulary statuses"),
        default=list,
        blank=True,
        help_text=_("HA formulary status codes of its products, copied so search results show them."),
    )
    content = models.JSONField(
        _("content"), help_text=_("The entry with its sections, products and strengths as approved.")
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The reviewer who approved it."),
    )
    approved_at = models.DateTimeField(_("approved at"), help_text=_("When it was approved."))
    effective_at = models.DateTimeField(
        _("effective from"),
        null=True,
        blank=True,
        help_text=_("When the reviewer set it to go live; empty: at approval. The audit log records when it did."),
    )
    next_review_due = models.DateField(_("next review due"), help_text=_("Review-by date set at approval."))

    objects = EditionQuerySet.as_manager()

    class Meta:
        ordering = ["entry", "-number"]
        verbose_name = _("published edition")
        verbose_name_plural = _("published editions")
        constraints = [
            models.UniqueConstraint(fields=["entry", "number"], name="edition_number_unique_per_entry"),
        ]

    def __str__(self):
        return f"{self.generic_name}, edition {self.number}"

    @property
    def published_at(self):
        """When this edition went live: `went_live_at` where the query read it from the entry's
        state (`selectors.live_editions`), else its go-live time or its approval. Sync clients
        (`updated_since`), feeds and FHIR's lastUpdated count this, not the approval: an edition
        approved on Monday to go live on Wednesday is new to the public on Wednesday."""
        went_live = getattr(self, "went_live_at", None)
        return went_live or max(filter(None, [self.approved_at, self.effective_at]))

    # What is published from an edition: its snapshot and the columns copied from it.
    OUTPUT_FIELDS = ("generic_name", "drug_class", "brand_names", "excerpt", "chinese_name", "content")

    @classmethod
    def from_db(cls, db, field_names, values):
        """An edition as read, without forbidden characters (`text_rules.strip_controls`).

        Editions are never changed, and one approved before the rule may hold a control
        character or a text-direction override: it is removed here, once, for every page,
        the feed, the API and FHIR, which all read editions as model instances (a deferred
        `content` loaded later comes through here too)."""
        instance = super().from_db(db, field_names, values)
        for name in cls.OUTPUT_FIELDS:
            if name in instance.__dict__:
                setattr(instance, name, strip_controls(instance.__dict__[name]))
        return instance


class RenderedFragment(models.Model):
    """A part of a public page rendered once from an edition (`fragments`): the entry page's
    monograph, the both-languages sheet, a list row, a search result's heading block, each in one
    interface language. `digest` names the templates, translations and rendering code it was made
    with, so a deployment that changes them reads (and fills) new rows instead of old HTML.

    Written once and never changed, like the edition it is made from (PostgreSQL refuses an
    UPDATE, migration 0023); rows of a superseded digest may be deleted (`render_editions --prune`).
    """

    class Part(models.TextChoices):
        ENTRY = "entry", _("Entry page")
        BILINGUAL = "bilingual", _("English and Chinese page")
        ROW = "row", _("List row")
        RESULT = "result", _("Search result")

    edition = models.ForeignKey(Edition, on_delete=models.PROTECT, related_name="+")
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    part = models.CharField(_("part"), max_length=10, choices=Part.choices)
    digest = models.CharField(_("template digest"), max_length=16)
    html = models.TextField(_("HTML"))
    rendered_at = models.DateTimeField(_("rendered at"), default=timezone.now)

    class Meta:
        verbose_name = _("rendered fragment")
        verbose_name_plural = _("rendered fragments")
        constraints = [
            # Also the index of the one read a page makes.
            models.UniqueConstraint(
                fields=["edition", "language", "part", "digest"], name="rendered_fragment_once_per_key"
            ),
            models.CheckConstraint(
                condition=models.Q(part__in=["entry", "bilingual", "row", "result"]),
                name="rendered_fragment_part_known",
            ),
            models.CheckConstraint(
                condition=models.Q(language__in=[code for code, _name in settings.LANGUAGES]),
                name="rendered_fragment_language_known",
            ),
        ]

    def __str__(self):
        return f"{self.edition_id} {self.part} [{self.language}] {self.digest}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableRecordError("Rendered fragments are written once.")
        super().save(*args, **kwargs)


class AuditEvent(AppendOnlyModel):
    """Append-only record of a workflow transition or publication."""

    class Action(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted for review")
        APPROVED = "approved", _("Approved and published")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn from public pages")
        EDITED = "edited", _("Edited")
        SCHEDULED = "scheduled", _("Approved, scheduled to go live")
        WENT_LIVE = "went_live", _("Went live as scheduled")
        WITHDRAW_PLANNED = "withdraw_planned", _("Withdrawal scheduled")
        UNSCHEDULED = "unscheduled", _("Schedule cancelled")

    entry = models.ForeignKey(
        Entry, on_delete=models.PROTECT, related_name="audit_events", help_text=_("The entry concerned.")
    )
    action = models.CharField(_("action"), max_length=16, choices=Action.choices, help_text=_("What happened."))
    from_state = models.CharField(
        _("from state"), max_length=16, choices=State.choices, help_text=_("State before the event.")
    )
    to_state = models.CharField(_("to state"), max_length=16, choices=State.choices, help_text=_("State after it."))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Who did it; empty for system imports."),
    )
    comment = models.TextField(_("comment"), blank=True, help_text=_("Reason or review comment given."))
    revision = models.ForeignKey(
        "reversion.Revision",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The revision the event concerns."),
    )
    edition = models.ForeignKey(
        Edition,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The edition published, when the event published one."),
    )
    created_at = models.DateTimeField(_("when"), auto_now_add=True, help_text=_("When it happened."))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit log")
        indexes = [
            # The formulary's publication stamp is the latest approval, go-live or withdrawal
            # (selectors.formulary_last_changed), asked by every list and search page when the
            # shared cache is off: read backwards from the newest event, it stops at the first
            # publication instead of scanning the whole log.
            models.Index(fields=["created_at"], name="auditevent_created_at_idx"),
        ]

    def __str__(self):
        return f"{self.entry}: {self.get_action_display()}"


class RestoredRevision(models.Model):
    """Which earlier revision a restore brought back (django-reversion revision meta, written in
    the restore's own revision). The four-eyes rule follows it: text restored from a version
    the public never saw still counts as its first authors' (`working_copy.authors_since_publication`)."""

    revision = models.OneToOneField(
        "reversion.Revision",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="restored",
        help_text=_("The revision the restore made."),
    )
    restored_from = models.ForeignKey(
        "reversion.Revision",
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The earlier revision whose content it brought back."),
    )

    class Meta:
        verbose_name = _("restored revision")
        verbose_name_plural = _("restored revisions")

    def __str__(self):
        return f"{self.revision_id} ← {self.restored_from_id}"


class DigestSent(AppendOnlyModel):
    """A period whose digest of changes was mailed (`manage.py send_digest`): each period is sent
    once. Append-only, like the audit log (PostgreSQL refuses changes too, migration 0012)."""

    first_day = models.DateField(_("first day"), help_text=_("First day of the period (Hong Kong time)."))
    last_day = models.DateField(_("last day"), help_text=_("Last day of the period, included."))
    sent_at = models.DateTimeField(_("sent at"), auto_now_add=True, help_text=_("When the digest was sent."))
    recipients = models.TextField(_("recipients"), help_text=_("The addresses it was sent to, one a line."))
    summary = models.CharField(
        _("summary"), max_length=200, help_text=_("How many entries were new, changed and withdrawn.")
    )

    class Meta:
        ordering = ["-first_day", "-last_day"]
        verbose_name = _("digest sent")
        verbose_name_plural = _("digests sent")
        constraints = [
            models.UniqueConstraint(fields=["first_day", "last_day"], name="digest_sent_once_per_period"),
            models.CheckConstraint(condition=Q(last_day__gte=models.F("first_day")), name="digest_period_forwards"),
        ]

    def __str__(self):
        return f"{self.first_day} – {self.last_day}"


# --- Background work ---------------------------------------------------------


class BuiltBooklet(models.Model):
    """A booklet PDF laid out by the job queue's worker (`booklet_store`), kept in PostgreSQL so
    every app server streams the same file. `content_key` names what is in it (the entries and
    the live edition of each, the language, the templates), so a booklet is built once per
    content, whichever server asked, and a file containing a withdrawn entry is recognisable."""

    drug_class = models.CharField(
        _("drug class"), max_length=200, blank=True, help_text=_("Empty for the whole formulary.")
    )
    language = models.CharField(_("language"), max_length=10)
    content_key = models.CharField(_("content key"), max_length=64)
    # [[entry id, edition id], …] in the booklet's A–Z order.
    entries = models.JSONField(_("entries"), default=list)
    stamp = models.DateTimeField(_("edition date"), null=True, blank=True)
    built_at = models.DateTimeField(_("built at"), default=timezone.now)
    build_seconds = models.FloatField(_("build time (s)"), default=0)
    size = models.PositiveBigIntegerField(_("size (bytes)"), default=0)
    pdf = models.BinaryField(_("PDF"), editable=False)

    class Meta:
        ordering = ["drug_class", "language", "-built_at"]
        verbose_name = _("built booklet")
        verbose_name_plural = _("built booklets")
        constraints = [
            models.UniqueConstraint(
                fields=["drug_class", "language", "content_key"], name="built_booklet_once_per_content"
            ),
        ]
        indexes = [models.Index(fields=["drug_class", "language", "-built_at"], name="built_booklet_newest_idx")]

    def __str__(self):
        return f"{self.drug_class or '*'} [{self.language}] {self.built_at:%Y-%m-%d %H:%M}"


class BookletPart(models.Model):
    """One laid-out part of a booklet (up to a few entries of one letter), keyed by a digest of
    its HTML and CSS: a rebuild after one publication lays out only the parts that changed."""

    key = models.CharField(max_length=64, unique=True)
    pages = models.PositiveIntegerField()
    anchors = models.JSONField(default=dict)
    used_at = models.DateTimeField(default=timezone.now)
    pdf = models.BinaryField(editable=False)

    class Meta:
        verbose_name = _("booklet part")
        verbose_name_plural = _("booklet parts")

    def __str__(self):
        return self.key[:12]


class OutboxMail(models.Model):
    """A mail to send, written in the transaction of what caused it (a transition, a digest run);
    the worker sends it with retries (`outbox`). Its Message-ID is fixed when it is written, so a
    resend after a crash is recognisably the same message."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed permanently")

    # Makes a second queueing of the same mail (a digest period run twice) a no-op.
    key = models.CharField(_("key"), max_length=200, unique=True, null=True, blank=True)
    kind = models.CharField(_("kind"), max_length=40)
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("text"))
    html = models.TextField(_("HTML"), blank=True)
    to = models.JSONField(_("to"), default=list)
    bcc = models.JSONField(_("bcc"), default=list)
    message_id = models.CharField(_("Message-ID"), max_length=250, unique=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("queued at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    # What a digest mail records once it is sent: {"first_day": …, "last_day": …, "summary": …}.
    digest = models.JSONField(_("digest period"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("outgoing mail")
        verbose_name_plural = _("outgoing mail")
        indexes = [models.Index(fields=["status", "created_at"], name="outbox_status_idx")]

    def __str__(self):
        return self.subject
