"""Free text without control characters or text-direction overrides (issue 20).

The model refuses them in every free-text field of entries, sections, products and strengths
(`monographs/text_rules.py`); the database refuses them too, by one CHECK constraint a table.
Rows of the working copy that already hold one are cleaned first: each such character is
removed (they are invisible, so the text reads the same). A Chinese text that was up to date
with its English stays up to date: its fingerprint of the English is renewed when the English
lost such a character. Published editions are not touched (they are immutable); the pages,
the feed, the API and FHIR remove the characters when they read them. The history
(django-reversion) keeps what was saved.

The pattern and the fingerprint are repeated here rather than imported: a migration must keep
working when the application changes.
"""

import hashlib
import re

import django.core.validators
from django.db import migrations, models

PATTERN = r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"
FORBIDDEN = re.compile(PATTERN)
TEXT_FIELDS = {
    "Entry": (
        "generic_name",
        "synonyms",
        "drug_class",
        "notes",
        "chinese_name",
        "boxed_warning",
        "chinese_synonyms",
        "boxed_warning_zh",
    ),
    "Section": ("heading", "body", "heading_zh", "body_zh"),
    "Product": ("name", "chinese_name", "certificate_holder", "notes"),
    "Strength": ("appearance", "pack_size"),
}
# (English fields, fingerprint field) of each translated text, as models.translation_fields.
TRANSLATIONS = {
    "Entry": ((("boxed_warning",), "boxed_warning_zh_source"),),
    "Section": ((("heading", "body"), "zh_source"),),
}


def _fingerprint(*texts):
    # models.english_fingerprint as of this migration.
    def normalised(text):
        return (text or "").strip().replace("\r\n", "\n").replace("\r", "\n")

    return hashlib.sha256("\x1f".join(normalised(text) for text in texts).encode("utf-8")).hexdigest()


def remove_forbidden_characters(apps, schema_editor):
    alias = schema_editor.connection.alias
    for model_name, fields in TEXT_FIELDS.items():
        model = apps.get_model("monographs", model_name)
        holding = models.Q()
        for name in fields:
            holding |= models.Q(**{f"{name}__regex": PATTERN})
        for row in model.objects.using(alias).filter(holding).iterator():
            before = {name: getattr(row, name) for name in fields}
            for name in fields:
                setattr(row, name, FORBIDDEN.sub("", getattr(row, name)))
            changed = [name for name in fields if getattr(row, name) != before[name]]
            for english, source in TRANSLATIONS.get(model_name, ()):
                was_current = getattr(row, source) == _fingerprint(*(before[name] for name in english))
                if was_current and any(name in changed for name in english):
                    setattr(row, source, _fingerprint(*(getattr(row, name) for name in english)))
                    changed.append(source)
            row.save(update_fields=changed)


class Migration(migrations.Migration):
    dependencies = [
        ("monographs", "0017_publication_counter"),
    ]

    operations = [
        migrations.RunPython(remove_forbidden_characters, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="entry",
            name="boxed_warning",
            field=models.CharField(
                blank=True,
                help_text="A short warning shown in a box under the name, e.g. 'Do not use in pregnancy.' At most 500 characters.",
                max_length=500,
                validators=[
                    django.core.validators.RegexValidator(
                        "[\\x00\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]",
                        code="forbidden_character",
                        inverse_match=True,
                        message="Control characters and text-direction overrides are not allowed in the text.",
                    )
                ],
                verbose_name="boxed warning",
            ),
        ),
        migrations.AlterField(
            model_name="entry",
            name="boxed_warning_zh",
            field=models.CharField(
                blank=True,
                help_text="Traditional Chinese text of the boxed warning. At most 500 characters.",
                max_length=500,
                validators=[
                    django.core.validators.RegexValidator(
                        "[\\x00\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]",
                        code="forbidden_character",
                        inverse_match=True,
                        message="Control characters and text-direction overrides are not allowed in the text.",
                    )
                ],
                verbose_name="boxed warning (Chinese)",
            ),
        ),
        migrations.AlterField(
            model_name="entry",
            name="chinese_name",
            field=models.CharField(
                blank=True,
                help_text="Traditional Chinese name as the Drug Office lists it, e.g. 來那度胺.",
                max_length=200,
                validators=[
                    django.core.validators.RegexValidator(
                        "[\\x00\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]",
                        code="forbidden_character",
                        inverse_match=True,
                        message="Control characters and text-direction overrides are not allowed in the text.",
                    )
                ],
                verbose_name="Chinese name",
            ),
        ),
        migrations.AlterField(
            model_name="entry",
            name="chinese_synonyms",
            field=models.TextField(
                blank=True,
                help_text="Other Chinese names, one per line (e.g. a Cantonese or older name). Search finds the entry by these.",
                validators=[
                    django.core.validators.RegexValidator(
                        "[\\x00\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]",
                        code="forbidden_character",
                        inverse_match=True,
                        message="Control characters and text-direction overrides are not allowed in the text.",
                    )
                ],
                verbose_name="Chinese synonyms",
            ),
        ),
        migrations.AlterField(
            model_name="entry",
            name="drug_class",
            field=models.CharField(
                blank=True,
                help_text="Pharmacological class, e.g. immunomodulatory imide drug.",
                max_length=200,
                validators=[
                    django.core.validators.RegexValidator(
                        "[\\x00\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]",
                        code="forbidden_character",
                        inverse_match=True,
                        message="Control characters and text-direction overrides are not allowed in the text.",
                    )
                ],
                verbose_name="drug class",
            ),
        ),
        migrations.AlterField(
            model_name="entry",
            name="generic_name",
            field=models.CharField(
                help_text="International non-proprietary name, e.g. Lenalidomide.",
                max_length=200,
                unique=True,
                validators=[
                    django.core.validators.RegexValidator(
                        "[\\x00\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]",
                        code="forbidden_character",
                        inverse_match=True,
                        message="Control characters and text-direction overrides are not allowed in the text.",
                    )
                ],
                verbose_name="generic name",
            ),
        ),
        migrations.AlterField(
            model_name="entry",
            name="notes",
            field=models.TextField(
                blank=True,
                help_text="Notes for pharmacists; never shown on public pages.",
                validators=[
                    django.core.validators.RegexValidator(
                        "[\\x00\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]",
                        code="forbidden_character",
                        inverse_match=True,
                        message="Control characters and text-direction overrides are not allowed in the text.",
                    )
                ],
                verbose_name="internal notes",
            ),
        ),
        migrations.AlterField(
            model_name="entry",
            name="synonyms",
            field=models.TextField(
                blank=True,
                help_text="Other names and spellings, one per line. Search finds the entry by these.",
                validators=[
                    django.core.validators.RegexValidator(
                        "[\\x00\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]",
                        code="forbidden_character",
                        inverse_match=True,
                        message="Control characters and text-direction overrides are not allowed in the text.",
                    )
                ],
                verbose_name="synonyms",
            ),
        ),
        migrations.AlterField(
            model_name="product",
            name="certificate_holder",
            field=models.CharField(
                help_text="Holder of the Hong Kong registration (marketing-authorisation holder).",
                max_length=200,
                validators=[
                    django.core.validators.RegexValidator(
                        "[\\x00\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]",
                        code="forbidden_character",
                        inverse_match=True,
                        message="Control characters and text-direction overrides are not allowed in the text.",
                    )
                ],
                verbose_name="certificate holder",
            ),
        ),
        migrations.AlterField(
            model_name="product",
            name="chinese_name",
            field=models.CharField(
                blank=True,
                help_text="Chinese product name as registered or on the box, e.g. 瑞復美.",
                max_length=200,
                validators=[
                    django.core.validators.RegexValidator(
                        "[\\x00\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]",
                        code="forbidden_character",
                        inverse_match=True,
                        message="Control characters and text-direction overrides are not allowed in the text.",
                    )
                ],
                verbose_name="Chinese name",
            ),
        ),
        migrations.AlterField(
            model_name="product",
            name="name",
            field=models.CharField(
                help_text="Name as registered, e.g. Revlimid.",
                max_length=200,
                validators=[
                    django.core.validators.RegexValidator(
                        "[\\x00\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]",
                        code="forbidden_character",
                        inverse_match=True,
                        message="Control characters and text-direction overrides are not allowed in the text.",
                    )
                ],
                verbose_name="product name",
            ),
        ),
        migrations.AlterField(
            model_name="product",
            name="notes",
            field=models.TextField(
                blank=True,
                help_text="Notes shown with the product.",
                validators=[
                    django.core.validators.RegexValidator(
                        "[\\x00\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]",
                        code="forbidden_character",
                        inverse_match=True,
                        message="Control characters and text-direction overrides are not allowed in the text.",
                    )
                ],
                verbose_name="notes",
            ),
        ),
        migrations.AlterField(
            model_name="section",
            name="body",
            field=models.TextField(
                help_text="Paragraphs separated by a blank line; bullet list items start with '- '. **bold** and *italic* are allowed; HTML is not. At most 100,000 characters.",
                validators=[
                    django.core.validators.RegexValidator(
                        "[\\x00\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]",
                        code="forbidden_character",
                        inverse_match=True,
                        message="Control characters and text-direction overrides are not allowed in the text.",
                    ),
                    django.core.validators.MaxLengthValidator(
                        100000,
                        "A section body can have at most 100,000 characters; split a longer text into several sections.",
                    ),
                ],
                verbose_name="body",
            ),
        ),
        migrations.AlterField(
            model_name="section",
            name="body_zh",
            field=models.TextField(
                blank=True,
                help_text="Traditional Chinese text of this section, in the same format as the English. Leave empty if not translated. At most 100,000 characters.",
                validators=[
                    django.core.validators.RegexValidator(
                        "[\\x00\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]",
                        code="forbidden_character",
                        inverse_match=True,
                        message="Control characters and text-direction overrides are not allowed in the text.",
                    ),
                    django.core.validators.MaxLengthValidator(
                        100000,
                        "A section body can have at most 100,000 characters; split a longer text into several sections.",
                    ),
                ],
                verbose_name="body (Chinese)",
            ),
        ),
        migrations.AlterField(
            model_name="section",
            name="heading",
            field=models.CharField(
                blank=True,
                help_text="Own heading. Required for kind 'Other'; otherwise replaces the standard heading if given.",
                max_length=200,
                validators=[
                    django.core.validators.RegexValidator(
                        "[\\x00\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]",
                        code="forbidden_character",
                        inverse_match=True,
                        message="Control characters and text-direction overrides are not allowed in the text.",
                    )
                ],
                verbose_name="heading",
            ),
        ),
        migrations.AlterField(
            model_name="section",
            name="heading_zh",
            field=models.CharField(
                blank=True,
                help_text="Traditional Chinese heading; needed only where the English has its own heading.",
                max_length=200,
                validators=[
                    django.core.validators.RegexValidator(
                        "[\\x00\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]",
                        code="forbidden_character",
                        inverse_match=True,
                        message="Control characters and text-direction overrides are not allowed in the text.",
                    )
                ],
                verbose_name="heading (Chinese)",
            ),
        ),
        migrations.AlterField(
            model_name="strength",
            name="appearance",
            field=models.CharField(
                blank=True,
                help_text="How to recognise it, e.g. 'white-green capsule marked REV 2.5 mg'.",
                max_length=300,
                validators=[
                    django.core.validators.RegexValidator(
                        "[\\x00\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]",
                        code="forbidden_character",
                        inverse_match=True,
                        message="Control characters and text-direction overrides are not allowed in the text.",
                    )
                ],
                verbose_name="appearance",
            ),
        ),
        migrations.AlterField(
            model_name="strength",
            name="pack_size",
            field=models.CharField(
                blank=True,
                help_text="Pack as supplied, e.g. '21 capsules'.",
                max_length=100,
                validators=[
                    django.core.validators.RegexValidator(
                        "[\\x00\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]",
                        code="forbidden_character",
                        inverse_match=True,
                        message="Control characters and text-direction overrides are not allowed in the text.",
                    )
                ],
                verbose_name="pack size",
            ),
        ),
        migrations.AddConstraint(
            model_name="entry",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        (
                            "generic_name__regex",
                            "[\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]",
                        ),
                        _negated=True,
                    ),
                    models.Q(
                        (
                            "synonyms__regex",
                            "[\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]",
                        ),
                        _negated=True,
                    ),
                    models.Q(
                        (
                            "drug_class__regex",
                            "[\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]",
                        ),
                        _negated=True,
                    ),
                    models.Q(
                        ("notes__regex", "[\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]"),
                        _negated=True,
                    ),
                    models.Q(
                        (
                            "chinese_name__regex",
                            "[\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]",
                        ),
                        _negated=True,
                    ),
                    models.Q(
                        (
                            "boxed_warning__regex",
                            "[\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]",
                        ),
                        _negated=True,
                    ),
                    models.Q(
                        (
                            "chinese_synonyms__regex",
                            "[\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]",
                        ),
                        _negated=True,
                    ),
                    models.Q(
                        (
                            "boxed_warning_zh__regex",
                            "[\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]",
                        ),
                        _negated=True,
                    ),
                ),
                name="entry_text_without_control_characters",
                violation_error_message="Control characters and text-direction overrides are not allowed in the text.",
            ),
        ),
        migrations.AddConstraint(
            model_name="product",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("name__regex", "[\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]"),
                        _negated=True,
                    ),
                    models.Q(
                        (
                            "chinese_name__regex",
                            "[\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]",
                        ),
                        _negated=True,
                    ),
                    models.Q(
                        (
                            "certificate_holder__regex",
                            "[\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]",
                        ),
                        _negated=True,
                    ),
                    models.Q(
                        ("notes__regex", "[\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]"),
                        _negated=True,
                    ),
                ),
                name="product_text_without_control_characters",
                violation_error_message="Control characters and text-direction overrides are not allowed in the text.",
            ),
        ),
        migrations.AddConstraint(
            model_name="section",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        (
                            "heading__regex",
                            "[\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]",
                        ),
                        _negated=True,
                    ),
                    models.Q(
                        ("body__regex", "[\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]"),
                        _negated=True,
                    ),
                    models.Q(
                        (
                            "heading_zh__regex",
                            "[\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]",
                        ),
                        _negated=True,
                    ),
                    models.Q(
                        (
                            "body_zh__regex",
                            "[\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]",
                        ),
                        _negated=True,
                    ),
                ),
                name="section_text_without_control_characters",
                violation_error_message="Control characters and text-direction overrides are not allowed in the text.",
            ),
        ),
        migrations.AddConstraint(
            model_name="strength",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        (
                            "appearance__regex",
                            "[\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]",
                        ),
                        _negated=True,
                    ),
                    models.Q(
                        (
                            "pack_size__regex",
                            "[\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]",
                        ),
                        _negated=True,
                    ),
                ),
                name="strength_text_without_control_characters",
                violation_error_message="Control characters and text-direction overrides are not allowed in the text.",
            ),
        ),
    ]
