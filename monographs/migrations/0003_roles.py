from django.contrib.auth.management import create_permissions
from django.db import migrations

# Frozen copy of monographs/roles.py as it stood when this migration was last changed.
# A migration must not import live application code: the roles can change later and
# this migration must still build the database it always built. Change the roles with
# a new migration, not by editing this list.
CONTENT_MODELS = ["entry", "section", "product", "strength"]
VIEW_ALL = [f"view_{m}" for m in [*CONTENT_MODELS, "entrystate", "edition", "auditevent"]]
ROLES = {
    "Editors": VIEW_ALL
    + [f"{action}_{m}" for m in CONTENT_MODELS for action in ("add", "change", "delete")]
    + ["submit_entry"],
    "Reviewers": VIEW_ALL + ["review_entry", "withdraw_entry"],
    "Readers": VIEW_ALL,
}


def create_roles(apps, schema_editor):
    # Permissions are normally made after all migrations; the groups need them now.
    app_config = apps.get_app_config("monographs")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        permissions = Permission.objects.filter(content_type__app_label="monographs", codename__in=codenames)
        missing = set(codenames) - set(permissions.values_list("codename", flat=True))
        if missing:
            raise RuntimeError(f"Permissions missing for {name}: {sorted(missing)}")
        group.permissions.set(permissions)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("monographs", "0002_workflow"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
