"""Admin forms: a required reason for every save, and no lost updates."""

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils import formats, timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from reversion.models import Revision

from .diffing import compare
from .models import Entry, EntryState
from .snapshots import snapshot_of_revision
from .working_copy import latest_revision


def _changed_labels(base_revision, latest, entry_id):
    """Short list of what the other save changed, for the conflict message."""
    try:
        old = snapshot_of_revision(base_revision, entry_id) if base_revision else None
        new = snapshot_of_revision(latest, entry_id)
    except LookupError:
        return []
    fields, sections, products = compare(old, new)
    labels = [str(change.label) for change in fields]
    labels += [f"{_('section')} “{c.label}” ({c.status_label})" for c in sections if c.changed]
    labels += [f"{_('product')} “{c.label}” ({c.status_label})" for c in products if c.changed]
    return labels


class VersionedEntryForm(forms.ModelForm):
    """Base form for anything saved as part of an entry's revision.

    `base_revision` records which revision the editor started from; if the
    entry has a newer one when they save, the save is refused and their input
    stays on the form to merge.
    """

    change_reason = forms.CharField(
        label=_("Reason for change"),
        max_length=500,
        help_text=_("Recorded in the history with your name, e.g. 'Updated storage advice per new PI'."),
        widget=forms.TextInput(attrs={"size": 80}),
    )
    base_revision = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def entry_for_conflicts(self):
        return self.instance if isinstance(self.instance, Entry) else getattr(self.instance, "entry", None)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        entry = self.entry_for_conflicts() if self.instance.pk else None
        revision = latest_revision(entry) if entry else None
        self.fields["base_revision"].initial = revision.pk if revision else None

    def clean(self):
        cleaned = super().clean()
        entry = self.entry_for_conflicts() if self.instance.pk else None
        if entry is None:
            return cleaned
        # Hold the entry's state row until this save commits, so two saves
        # that started from the same revision cannot both pass this check.
        EntryState.objects.select_for_update().get_or_create(entry_id=entry.pk)
        latest = latest_revision(entry)
        base_id = cleaned.get("base_revision")
        if latest is None or latest.pk == base_id:
            return cleaned
        base = Revision.objects.filter(pk=base_id).first() if base_id else None
        who = latest.user.get_full_name() or latest.user.username if latest.user else _("an import")
        when = formats.date_format(timezone.localtime(latest.date_created), "DATETIME_FORMAT")
        changed = _changed_labels(base, latest, entry.pk)
        # The next save starts from what is now stored, once the editor has merged.
        self.data = self.data.copy()
        self.data[self.add_prefix("base_revision")] = latest.pk
        raise ValidationError(
            _(
                "Someone else changed this entry after you opened it: %(who)s at %(when)s (“%(reason)s”). "
                "Changed: %(changed)s. Your input is kept below: compare it with the current version "
                "(open the entry in a new tab), merge, and save again."
            )
            % {
                "who": who,
                "when": when,
                "reason": latest.comment,
                "changed": ", ".join(changed) or _("details in the history"),
            },
            code="conflict",
        )


CHECKED_LABEL = _("Chinese text checked against the current English")
CHECKED_HELP = _("Open “Compare English and Chinese side by side” and read both, then tick: the outdated mark goes.")
NOT_COMPARED = _(
    "Not ticked: open “Compare English and Chinese side by side” for this text and read both before "
    "ticking “Chinese text checked”."
)


def _compared_field():
    # Set by the page's script when the side-by-side view of this text is opened. A usability
    # guard, not a security control: it keeps a tick from being given without both texts shown.
    return forms.BooleanField(required=False, widget=forms.HiddenInput)


def _refuse_unseen_tick(form, tick, compared):
    """A "checked" tick arriving without the side-by-side view having been opened is refused."""
    cleaned = form.cleaned_data
    if cleaned.get(tick) and not cleaned.get(compared) and tick in form.fields:
        form.add_error(tick, ValidationError(NOT_COMPARED, code="not_compared"))
        cleaned[tick] = False


class SectionForm(forms.ModelForm):
    """A section of the entry's screen, with the "checked against the current English" tick.

    The tick is an edit like any other: it records the current English as what the Chinese
    translates (`models._TracksTranslation`), in the entry's revision with the reason given."""

    translation_checked = forms.BooleanField(label=CHECKED_LABEL, required=False, help_text=CHECKED_HELP)
    texts_compared = _compared_field()

    def clean(self):
        cleaned = super().clean()
        _refuse_unseen_tick(self, "translation_checked", "texts_compared")
        self.instance.translation_checked = bool(cleaned.get("translation_checked"))
        return cleaned


class EntryForm(VersionedEntryForm):
    """The entry's own form: also the optional note sent with "Save and submit", and the
    "checked" tick of the Chinese boxed warning."""

    boxed_warning_checked = forms.BooleanField(label=CHECKED_LABEL, required=False, help_text=CHECKED_HELP)
    boxed_warning_compared = _compared_field()

    def clean(self):
        cleaned = super().clean()
        _refuse_unseen_tick(self, "boxed_warning_checked", "boxed_warning_compared")
        self.instance.translation_checked = bool(cleaned.get("boxed_warning_checked"))
        return cleaned

    review_note = forms.CharField(
        label=_("Message to the reviewers"),
        required=False,
        max_length=1000,
        help_text=_("Optional; sent to the reviewers with “Save and submit”."),
        widget=forms.TextInput(attrs={"size": 80}),
    )


def _errors_of(form):
    for name, field in form.fields.items():
        if name in form.errors:
            return field.label or name.replace("_", " "), form[name].id_for_label, form.errors[name][0]
    if form.non_field_errors():
        return None, None, form.non_field_errors()[0]
    for formset in getattr(form, "nested_formsets", None) or []:
        found = _errors_of_formset(formset)
        if found:
            return found
    return None


def _errors_of_formset(formset):
    name = formset.model._meta.verbose_name
    if formset.non_form_errors():
        return str(name).capitalize(), None, formset.non_form_errors()[0]
    for number, form in enumerate(formset.forms, start=1):
        found = _errors_of(form)
        if found:
            label, field_id, message = found
            where = f"{str(name).capitalize()} {number}"
            return (f"{where}: {label}" if label else where), field_id, message
    return None


def first_error(form, formsets=()):
    """(label, id of the field, message) of the first problem on an admin form and its inlines,
    in page order, or None: the message names it and the page scrolls to it."""
    found = _errors_of(form)
    if found:
        return found
    for formset in formsets:
        found = _errors_of_formset(formset)
        if found:
            return found
    return None


# A decision's comment goes into the audit log and the mails: long enough for any reason a
# reviewer writes, bounded so a pasted document (200 KB was accepted) is refused with a message.
DECISION_COMMENT_MAX_LENGTH = 4000


class DecisionForm(forms.Form):
    comment = forms.CharField(
        label=_("Review comment"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        max_length=DECISION_COMMENT_MAX_LENGTH,
        help_text=_("Required. The author sees it with your decision."),
    )
    # What the page showed of the entry (`workflow.state_token`): the decision is refused with
    # what changed if anything happened to the entry after the page was opened.
    seen = forms.RegexField(
        regex=r"^[0-9]{1,18}\.[0-9]{1,18}$",
        widget=forms.HiddenInput,
        error_messages={
            "required": _("This page is out of date; open it again to decide on the entry as it is now."),
            "invalid": _("This page is out of date; open it again to decide on the entry as it is now."),
        },
    )


class SubmitForm(forms.Form):
    """The editor's optional note to the reviewers when submitting.

    A form, not a bare read of the POST, so a NUL (which PostgreSQL cannot
    store: it was a 500) or a novel is refused with a message.
    """

    comment = forms.CharField(
        label=_("Note for the reviewer"),
        required=False,
        max_length=1000,
        widget=forms.TextInput(attrs={"size": 50, "id": "submit-comment"}),
    )
    # The version the page showed: a submission is refused if the entry was saved again since.
    revision = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


class _TimeField(forms.DateTimeField):
    """A date and time as typed: Django's parser lets a trailing NUL or other control character
    through, which the rest of the project refuses everywhere (docs/security.md)."""

    def to_python(self, value):
        if isinstance(value, str) and any(ord(c) < 32 or 127 <= ord(c) < 160 for c in value):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


# Typed as ISO, the same in every browser: Chrome's date-and-time picker shows the browser's
# locale (12/02/2026 on an American-English browser), which a Hong Kong reader takes for 12 February.
TIME_INPUT_EXAMPLE = "2026-12-04 09:00"


def _future_time_field(label, help_text):
    # The value is Hong Kong time (the site's time zone).
    return _TimeField(
        label=label,
        required=False,
        input_formats=["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"],
        widget=forms.DateTimeInput(
            attrs={
                "placeholder": TIME_INPUT_EXAMPLE,
                "inputmode": "numeric",
                "autocomplete": "off",
                "size": 16,
                "pattern": r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}",
                "class": "iso-datetime",
            },
            format="%Y-%m-%d %H:%M",
        ),
        help_text=format_lazy(
            "{} {}",
            help_text,
            format_lazy(
                _("Year-month-day and 24-hour time, Hong Kong time: e.g. {example}."), example=TIME_INPUT_EXAMPLE
            ),
        ),
    )


# How far ahead a go-live or a withdrawal may be set. A monograph is reviewed every two years
# (FORMULARY_REVIEW_INTERVAL_DAYS), so a date further off is a typing slip; and 9999-12-31 made
# the date arithmetic after approval overflow (a 500).
SCHEDULE_HORIZON_YEARS = 5


def _check_future(value):
    if value is not None and value <= timezone.now():
        raise ValidationError(_("Choose a time in the future, or leave it empty for now."), code="past")
    if value is not None and value > timezone.now() + datetime.timedelta(days=365 * SCHEDULE_HORIZON_YEARS + 1):
        raise ValidationError(
            _("Choose a time at most %(years)s years ahead."),
            code="too_far",
            params={"years": SCHEDULE_HORIZON_YEARS},
        )
    return value


class ReviewDecisionForm(DecisionForm):
    """A decision on one submitted version: the page carries the revision it showed."""

    go_live_at = _future_time_field(
        _("Goes live on"),
        _("Leave empty to publish at once. With a date, the current edition stays live until then."),
    )

    def clean_go_live_at(self):
        return _check_future(self.cleaned_data.get("go_live_at"))

    replace_waiting = forms.BooleanField(
        label=_("Replace the edition waiting to go live"),
        required=False,
        help_text=_("Needed when an edition approved earlier is waiting to go live: it will never go live."),
    )

    publish_outdated_chinese = forms.BooleanField(
        label=_("Publish with the Chinese text marked as outdated"),
        required=False,
        help_text=_(
            "Needed when a Chinese text was translated from older English: the public page shows it "
            "with a notice and the English beside it. Recorded in the audit log."
        ),
    )

    revision = forms.IntegerField(
        widget=forms.HiddenInput,
        min_value=1,
        error_messages={
            "required": _("This review page is out of date; reload it to see the version awaiting review.")
        },
    )


class WithdrawForm(DecisionForm):
    withdraw_at = _future_time_field(
        _("Withdraw on"),
        _("Leave empty to withdraw at once. With a date, the entry stays on the public pages until then."),
    )

    def clean_withdraw_at(self):
        return _check_future(self.cleaned_data.get("withdraw_at"))


class CompareForm(forms.Form):
    old = forms.IntegerField(label=_("Older version"), min_value=1)
    new = forms.IntegerField(label=_("Newer version"), min_value=1)
