"""Build the POST data a browser would send from a rendered admin change form.

The entry form nests formsets (an entry's products, each with its strengths: django-nested-admin),
so each form's nested formsets are walked too; their prefixes name the parent row, e.g.
`products-0-strengths-1-pack_size`.
"""


def _value(bound_field):
    value = bound_field.value()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "on" if value else ""
    return value


def _form_data(form, data):
    for name in form.fields:
        value = _value(form[name])
        if value != "":
            data[form.add_prefix(name)] = value
    for formset in getattr(form, "nested_formsets", None) or []:
        _formset_data(formset, data)


def _formset_data(formset, data):
    management = formset.management_form
    for name in management.fields:
        data[management.add_prefix(name)] = _value(management[name])
    for subform in formset.forms:
        _form_data(subform, data)


def change_form_data(response):
    data = {}
    _form_data(response.context["adminform"].form, data)
    for inline in response.context["inline_admin_formsets"]:
        _formset_data(inline.formset, data)
    return data


def formset_prefix(data, field, value):
    """The prefix of the inline row whose `field` holds `value`, e.g. "products-0-strengths-1"."""
    for key, held in data.items():
        if key.endswith(f"-{field}") and held == value:
            return key[: -len(field) - 1]
    raise KeyError(f"no row with {field}={value!r}")
