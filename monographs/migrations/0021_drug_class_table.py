"""Drug classes become a table (English and Chinese name, slug) that entries refer to, and
pack sizes are read as a count and a unit.

Data: every class name found in entries, published editions and recorded revisions becomes
one DrugClass, names that differ only in case or spacing becoming one (the spelling most
entries use, then the first alphabetically); entries point to it; editions get its slug
(their text stays as published); and each recorded revision of an entry holds the class's id
where it held its name, so old revisions still open, compare and restore. Packs: the frozen
reading below sets pack_count and pack_unit where a pack size is one count of one unit; other
text stays as it is.
"""

import json
import re
from collections import Counter

import django.core.validators
import django.db.models.deletion
import django.db.models.functions.text
from django.db import migrations, models


# Frozen copies (a migration must not import live code): normalise_class_name and the slug
# rule of models.DrugClass, and packs.parse_pack as they stood when this was written.
def _normal(name):
    return " ".join((name or "").split())


def _slug_base(name):
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug or "class"


_UNIT_WORDS = {
    "capsule": ("capsule", "capsules", "caps", "cap"),
    "tablet": ("tablet", "tablets", "tabs", "tab"),
    "sachet": ("sachet", "sachets"),
    "vial": ("vial", "vials"),
    "ampoule": ("ampoule", "ampoules", "ampule", "ampules", "amp", "amps"),
    "syringe": ("pre-filled syringe", "pre-filled syringes", "prefilled syringe", "prefilled syringes"),
    "pen": ("pen", "pens", "pre-filled pen", "pre-filled pens"),
    "bottle": ("bottle", "bottles"),
    "tube": ("tube", "tubes"),
    "inhaler": ("inhaler", "inhalers"),
    "patch": ("patch", "patches"),
    "suppository": ("suppository", "suppositories"),
    "dose": ("dose", "doses"),
}
_WORD_TO_UNIT = {word: unit for unit, words in _UNIT_WORDS.items() for word in words}
_PACK = re.compile(
    r"(?:1\s*[x×]\s*)?(?P<count>[0-9]{1,5})\s*[x×]?\s*"
    r"(?:(?:hard|soft|gelatin|film[- ]coated|coated|dispersible|effervescent|chewable|oral|single[- ]dose)\s+)*"
    r"(?P<word>" + "|".join(sorted((re.escape(w) for w in _WORD_TO_UNIT), key=len, reverse=True)) + r")\.?",
    re.IGNORECASE,
)


def _parse_pack(text):
    match = _PACK.fullmatch(" ".join((text or "").split()))
    if match is None or not 0 < int(match.group("count")) <= 99_999:
        return None
    return int(match.group("count")), _WORD_TO_UNIT[match.group("word").lower()]


def _entry_versions(apps):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Version = apps.get_model("reversion", "Version")
    content_type = ContentType.objects.filter(app_label="monographs", model="entry").first()
    if content_type is None:
        return Version.objects.none()
    return Version.objects.filter(content_type=content_type, format="json")


def _recorded_class(version):
    data = json.loads(version.serialized_data)
    return data, (data[0]["fields"].get("drug_class") if data else None)


def classes_from_text(apps, schema_editor):
    Entry = apps.get_model("monographs", "Entry")
    Edition = apps.get_model("monographs", "Edition")
    DrugClass = apps.get_model("monographs", "DrugClass")
    spellings = Counter()
    for name in Entry.objects.values_list("drug_class", flat=True):
        if _normal(name):
            spellings[_normal(name)] += 1
    found = set(spellings)
    for name in Edition.objects.values_list("drug_class", flat=True).distinct():
        found.add(_normal(name))
    for version in _entry_versions(apps).iterator(chunk_size=500):
        _data, name = _recorded_class(version)
        if isinstance(name, str):
            found.add(_normal(name))
    found.discard("")
    by_key = {}
    for name in sorted(found, key=lambda n: (-spellings[n], n)):
        by_key.setdefault(name.casefold(), name)
    slugs = set()
    pk_of = {}
    for key, name in sorted(by_key.items()):
        base = _slug_base(name)
        slug, n = base, 2
        while slug in slugs:
            slug, n = f"{base}-{n}", n + 1
        slugs.add(slug)
        pk_of[key] = DrugClass.objects.create(name=name, slug=slug).pk
    for entry in Entry.objects.exclude(drug_class="").only("pk", "drug_class"):
        pk = pk_of.get(_normal(entry.drug_class).casefold())
        Entry.objects.filter(pk=entry.pk).update(drug_class_ref_id=pk)
    if schema_editor.connection.vendor == "postgresql":
        # The entries' new foreign keys are checked now, so the column can be dropped next.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    for version in _entry_versions(apps).iterator(chunk_size=500):
        data, name = _recorded_class(version)
        if data and not isinstance(name, int) and "drug_class" in data[0]["fields"]:
            data[0]["fields"]["drug_class"] = pk_of.get(_normal(name).casefold()) if name else None
            type(version).objects.filter(pk=version.pk).update(serialized_data=json.dumps(data))
    postgres = schema_editor.connection.vendor == "postgresql"
    if postgres:
        # Editions are append-only; this one-off backfill of copied columns is the exception.
        schema_editor.execute("ALTER TABLE monographs_edition DISABLE TRIGGER monographs_edition_append_only")
    slug_of = {pk: slug for pk, slug in DrugClass.objects.values_list("pk", "slug")}
    for name in Edition.objects.exclude(drug_class="").values_list("drug_class", flat=True).distinct():
        pk = pk_of.get(_normal(name).casefold())
        if pk is not None:
            Edition.objects.filter(drug_class=name).update(drug_class_slug=slug_of[pk])
    if postgres:
        schema_editor.execute("ALTER TABLE monographs_edition ENABLE TRIGGER monographs_edition_append_only")


def packs_from_text(apps, schema_editor):
    Strength = apps.get_model("monographs", "Strength")
    for strength in Strength.objects.exclude(pack_size="").only("pk", "pack_size").iterator(chunk_size=1000):
        pack = _parse_pack(strength.pack_size)
        if pack is not None:
            Strength.objects.filter(pk=strength.pk).update(pack_count=pack[0], pack_unit=pack[1])


# Frozen copy of the drug-class permissions of monographs/roles.py as this was written.
CLASS_PERMISSIONS = {
    "Editors": ["view_drugclass", "add_drugclass", "change_drugclass", "delete_drugclass"],
    "Reviewers": ["view_drugclass"],
    "Readers": ["view_drugclass"],
}


def grant_class_permissions(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally made after all migrations; the groups need them now.
    app_config = apps.get_app_config("monographs")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in CLASS_PERMISSIONS.items():
        group = Group.objects.filter(name=name).first()
        if group is not None:
            group.permissions.add(
                *Permission.objects.filter(content_type__app_label="monographs", codename__in=codenames)
            )


class Migration(migrations.Migration):

    dependencies = [
        ('monographs', '0020_restored_revision'),
        ('reversion', '0002_add_index_on_version_for_content_type_and_db'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('auth', '0012_alter_user_first_name_max_length'),
    ]

    operations = [
        migrations.CreateModel(
            name='DrugClass',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(help_text='English name, e.g. Immunomodulatory imide drug. Unique whatever its case.', max_length=200, unique=True, validators=[django.core.validators.RegexValidator('[\\x00\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]', code='forbidden_character', inverse_match=True, message='Control characters and text-direction overrides are not allowed in the text.'), django.core.validators.RegexValidator('\\A\\S+( \\S+)*\\Z', 'Write the class name without spaces at either end, line breaks or double spaces.', code='class_name_spacing')], verbose_name='name')),
                ('name_zh', models.CharField(blank=True, help_text='Traditional Chinese name, e.g. 免疫調節醯亞胺類藥物. Check it against the glossary.', max_length=200, validators=[django.core.validators.RegexValidator('[\\x00\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]', code='forbidden_character', inverse_match=True, message='Control characters and text-direction overrides are not allowed in the text.'), django.core.validators.RegexValidator('\\A\\S+( \\S+)*\\Z', 'Write the class name without spaces at either end, line breaks or double spaces.', code='class_name_spacing')], verbose_name='Chinese name')),
                ('slug', models.SlugField(help_text='Web address part of the class page, e.g. immunomodulatory-imide-drug.', max_length=200, unique=True, validators=[django.core.validators.RegexValidator('\\A[a-z0-9]+(-[a-z0-9]+)*\\Z', 'Use lowercase letters, digits and single hyphens, e.g. biguanide or beta-blocker.', code='class_slug')], verbose_name='slug')),
            ],
            options={
                'verbose_name': 'drug class',
                'verbose_name_plural': 'drug classes',
                'ordering': [django.db.models.functions.text.Lower('name')],
            },
        ),
        migrations.RemoveConstraint(
            model_name='entry',
            name='entry_text_without_control_characters',
        ),
        migrations.AddField(
            model_name='edition',
            name='drug_class_slug',
            field=models.SlugField(blank=True, help_text="The class page's address part, copied.", max_length=200, verbose_name='drug class slug'),
        ),
        migrations.AddField(
            model_name='edition',
            name='drug_class_zh',
            field=models.CharField(blank=True, help_text='Chinese name of the class, copied.', max_length=200, verbose_name='drug class (Chinese)'),
        ),
        migrations.AddField(
            model_name='strength',
            name='pack_count',
            field=models.PositiveIntegerField(blank=True, help_text="How many units a pack holds, read from the pack size (21 in '21 capsules').", null=True, validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(99999)], verbose_name='pack count'),
        ),
        migrations.AddField(
            model_name='strength',
            name='pack_unit',
            field=models.CharField(blank=True, choices=[('capsule', 'capsule'), ('tablet', 'tablet'), ('sachet', 'sachet'), ('vial', 'vial'), ('ampoule', 'ampoule'), ('syringe', 'pre-filled syringe'), ('pen', 'pen'), ('bottle', 'bottle'), ('tube', 'tube'), ('inhaler', 'inhaler'), ('patch', 'patch'), ('suppository', 'suppository'), ('dose', 'dose')], help_text="What the pack is counted in, read from the pack size (capsule in '21 capsules').", max_length=16, verbose_name='pack unit'),
        ),
        migrations.AlterField(
            model_name='edition',
            name='drug_class',
            field=models.CharField(blank=True, help_text='English name of the class, copied for browsing.', max_length=200, verbose_name='drug class'),
        ),
        migrations.AlterField(
            model_name='strength',
            name='pack_size',
            field=models.CharField(blank=True, help_text="Pack as supplied, e.g. '21 capsules': read on save as a count and a unit (shown as 「21 粒」 in Chinese); text that is not one count of one unit is kept and shown as typed.", max_length=100, validators=[django.core.validators.RegexValidator('[\\x00\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]', code='forbidden_character', inverse_match=True, message='Control characters and text-direction overrides are not allowed in the text.')], verbose_name='pack size'),
        ),
        migrations.AddConstraint(
            model_name='strength',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('pack_count__isnull', True), ('pack_unit', '')), models.Q(('pack_count__gte', 1), ('pack_count__lte', 99999), models.Q(('pack_unit', ''), _negated=True)), _connector='OR'), name='strength_pack_count_with_unit', violation_error_message='A pack count needs its unit, and a unit its count (1 to 99,999).'),
        ),
        migrations.AddConstraint(
            model_name='drugclass',
            constraint=models.UniqueConstraint(django.db.models.functions.text.Lower('name'), name='drug_class_name_unique', violation_error_message='A drug class of this name already exists (whatever its case).'),
        ),
        migrations.AddConstraint(
            model_name='drugclass',
            constraint=models.UniqueConstraint(condition=models.Q(('name_zh', ''), _negated=True), fields=('name_zh',), name='drug_class_name_zh_unique', violation_error_message='Another drug class already has this Chinese name.'),
        ),
        migrations.AddConstraint(
            model_name='drugclass',
            constraint=models.CheckConstraint(condition=models.Q(('name__regex', '\\A\\S+( \\S+)*\\Z'), models.Q(('name_zh', ''), ('name_zh__regex', '\\A\\S+( \\S+)*\\Z'), _connector='OR')), name='drug_class_name_spacing', violation_error_message='Write the class name without spaces at either end, line breaks or double spaces.'),
        ),
        migrations.AddConstraint(
            model_name='drugclass',
            constraint=models.CheckConstraint(condition=models.Q(('slug__regex', '\\A[a-z0-9]+(-[a-z0-9]+)*\\Z')), name='drug_class_slug_shape', violation_error_message='Use lowercase letters, digits and single hyphens, e.g. biguanide or beta-blocker.'),
        ),
        migrations.AddConstraint(
            model_name='drugclass',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('name__regex', '[\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]'), _negated=True), models.Q(('name_zh__regex', '[\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]'), _negated=True)), name='drug_class_text_without_control_characters', violation_error_message='Control characters and text-direction overrides are not allowed in the text.'),
        ),
        migrations.AddField(
            model_name='entry',
            name='drug_class_ref',
            field=models.ForeignKey(null=True, blank=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='monographs.drugclass'),
        ),
        migrations.RunPython(classes_from_text, migrations.RunPython.noop),
        migrations.RemoveField(model_name='entry', name='drug_class'),
        migrations.RenameField(model_name='entry', old_name='drug_class_ref', new_name='drug_class'),
        migrations.AlterField(
            model_name='entry',
            name='drug_class',
            field=models.ForeignKey(blank=True, help_text='Pharmacological class, e.g. immunomodulatory imide drug (drug classes are edited on their own).', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='entries', to='monographs.drugclass', verbose_name='drug class'),
        ),
        migrations.AddConstraint(
            model_name='entry',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('generic_name__regex', '[\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]'), _negated=True), models.Q(('synonyms__regex', '[\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]'), _negated=True), models.Q(('notes__regex', '[\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]'), _negated=True), models.Q(('chinese_name__regex', '[\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]'), _negated=True), models.Q(('boxed_warning__regex', '[\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]'), _negated=True), models.Q(('chinese_synonyms__regex', '[\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]'), _negated=True), models.Q(('boxed_warning_zh__regex', '[\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]'), _negated=True)), name='entry_text_without_control_characters', violation_error_message='Control characters and text-direction overrides are not allowed in the text.'),
        ),
        migrations.RunPython(packs_from_text, migrations.RunPython.noop),
        migrations.RunPython(grant_class_permissions, migrations.RunPython.noop),
    ]
