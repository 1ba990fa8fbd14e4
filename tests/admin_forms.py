"""Build the POST data a browser would send from a rendered admin change form."""


def _value(bound_field):
    value = bound_field.value()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "on" if value else ""
    return value


def change_form_data(response):
    data = {}
    form = response.context["adminform"].form
    for name in form.fields:
        value = _value(form[name])
        if value != "":
            data[form.add_prefix(name)] = value
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = _value(management[name])
        for subform in formset.forms:
            for name in subform.fields:
                value = _value(subform[name])
                if value != "":
                    data[subform.add_prefix(name)] = value
    return data
