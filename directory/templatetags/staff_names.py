from django import template

from directory.accounts import staff_name as name_of

register = template.Library()


@register.filter
def staff_name(user):
    """{{ event.actor|staff_name }}: the directory's display name and staff number, else the full
    name or username (local accounts)."""
    return name_of(user)
