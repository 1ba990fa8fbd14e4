"""The three staff roles and what each may do.

Kept as data so the migration that creates the groups and the tests that
check them read one definition.
"""

CONTENT_MODELS = ["entry", "section", "product", "strength", "drugclass"]
VIEW_ALL = [f"view_{m}" for m in [*CONTENT_MODELS, "entrystate", "edition", "auditevent"]]

ROLES = {
    # Pharmacists: write the working copy and send it for review.
    "Editors": VIEW_ALL
    + [f"{action}_{m}" for m in CONTENT_MODELS for action in ("add", "change", "delete")]
    + ["submit_entry"],
    # Senior pharmacists: decide what is published.
    "Reviewers": VIEW_ALL + ["review_entry", "withdraw_entry"],
    # Everyone else on staff: may look, including at drafts, and change nothing.
    "Readers": VIEW_ALL,
}


def sync_roles(Group, Permission):
    """Create the groups and give them exactly their permissions.

    Takes the models as arguments so a migration can pass its historical ones.
    """
    for name, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        permissions = Permission.objects.filter(content_type__app_label="monographs", codename__in=codenames)
        missing = set(codenames) - set(permissions.values_list("codename", flat=True))
        if missing:
            raise RuntimeError(f"Permissions missing for {name}: {sorted(missing)}")
        group.permissions.set(permissions)
