"""Admin for pharmacists: thin, every save versioned with a required reason."""

import datetime
from urllib.parse import urlsplit

import nested_admin
import reversion
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import Http404, HttpResponseRedirect
from django.urls import resolve, reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.text import format_lazy, smart_split
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from reversion.admin import VersionAdmin

from directory.accounts import staff_name

from . import services, workflow, working_copy
from .admin_review import ReviewAdminMixin
from .forms import EntryForm, SectionForm, SubmitForm, VersionedEntryForm, first_error
from .models import (
    AuditEvent,
    BuiltBooklet,
    DrugClass,
    Edition,
    Entry,
    OutboxMail,
    Product,
    RestoredRevision,
    Section,
    Strength,
    TranslationStatus,
    format_amount,
)
from .snapshots import EDITED_STRENGTH_FIELDS, PRODUCT_FIELDS
from .text_rules import as_id


class AsciiIdMixin:
    """An object's address holds its id in ASCII digits, or it is a 404.

    Django's admin reads the id with `int()`, which takes full-width digits too (`%EF%BC%91`
    opened entry 1), and the entry's own screens asked `str.isdigit()`, which also takes "²"
    and "①" that `int()` then refuses: a 500. A well-formed id of nothing keeps
    the admin's usual "does not exist" message."""

    def get_object(self, request, object_id, from_field=None):
        if from_field is None and as_id(object_id) is None:
            raise Http404("No such address in the admin.")
        return super().get_object(request, object_id, from_field)


class ReasonCommentMixin:
    """The revision's comment is the reason typed on the form (`change_reason`), which is what
    reviewers need, not the admin's change message that VersionAdmin writes there.

    The reason goes into django-reversion's own record of the revision being saved, once the
    form and its inlines are saved; VersionAdmin's `log_*`, called next, overwrite it with the
    change message, so the overrides below put the reason back.
    """

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if reversion.is_active():
            reversion.set_comment(form.cleaned_data["change_reason"])

    def log_addition(self, request, obj, message):
        return self._keeping_reason(super().log_addition, request, obj, message)

    def log_change(self, request, obj, message):
        return self._keeping_reason(super().log_change, request, obj, message)

    def _keeping_reason(self, log, request, obj, message):
        reason = reversion.get_comment() if reversion.is_active() else ""
        entry = log(request, obj, message)
        if reason:
            reversion.set_comment(reason)
        return entry


class BoundedSearchMixin:
    """Refuses list searches too large to answer in reasonable time, with a message.

    The admin searches every term in every search field, joined across
    products and strengths: 1,000 terms on 2,000 entries held a worker for 27 s.
    Ten terms and 200 characters are far more than any name,
    synonym or registration number search needs. A longer search is refused
    rather than cut short, so the list never shows results for a search
    other than the one typed.
    """

    search_max_terms = 10
    search_max_length = 200

    @property
    def search_help_text(self):
        return format_lazy(
            _("Up to {terms} words and {length} characters."),
            terms=self.search_max_terms,
            length=self.search_max_length,
        )

    def get_search_results(self, request, queryset, search_term):
        # The same splitting as the admin's: words, or phrases in quotes.
        too_long = len(search_term) > self.search_max_length
        if too_long or len(list(smart_split(search_term))) > self.search_max_terms:
            # The autocomplete widgets search here too; their JSON answer has
            # no place for a message, and it would show on the next page.
            if getattr(request.resolver_match, "url_name", "") != "autocomplete":
                self.message_user(
                    request,
                    _("Search is limited to %(terms)d words and %(length)d characters; shorten it to see results.")
                    % {"terms": self.search_max_terms, "length": self.search_max_length},
                    messages.ERROR,
                )
            return queryset.none(), False
        return super().get_search_results(request, queryset, search_term)


class AmountInput(forms.NumberInput):
    """An amount as people write it (2.5, not the stored 2.5000)."""

    def format_value(self, value):
        if value in (None, ""):
            return None
        return format_amount(value)


def translation_badge(status, english_changed_at=None):
    """The status of a Chinese text as a badge beside it: up to date, outdated (since when the
    English changed, where known) or missing; "" when there is no English to translate."""
    if status is None:
        return ""
    if status == TranslationStatus.STALE:
        if english_changed_at:
            when = formats.date_format(timezone.localtime(english_changed_at), "DATE_FORMAT")
            text = gettext("Outdated: the English changed on %(date)s") % {"date": when}
        else:
            text = gettext("Outdated: the English changed after this translation")
    elif status == TranslationStatus.MISSING:
        text = gettext("Missing")
    else:
        text = gettext("Up to date")
    return format_html('<span class="translation-badge translation-{}">{}</span>', status, text)


# The entry screen's inlines: django-nested-admin's stacked inline with each section and product
# in a folded panel, and each strength headed with its product (templates/admin/monographs/entry/).
PANEL_TEMPLATE = "admin/monographs/entry/panel_stacked.html"


class TranslationCheckedMixin:
    """The "Chinese text checked" tick is a form field, not a model field: readers, who see
    every field read-only, are shown the status alone."""

    checked_field = "translation_checked"

    def _without_tick(self, rows):
        kept = []
        for row in rows:
            if isinstance(row, tuple):
                row = tuple(name for name in row if name != self.checked_field)
            if row and row != self.checked_field:
                kept.append(row)
        return kept


class SectionInline(TranslationCheckedMixin, nested_admin.NestedStackedInline):
    model = Section
    form = SectionForm
    extra = 0
    is_sortable = False
    # The Chinese under the English it translates, with its status and the "checked" tick.
    fields = [
        ("position", "kind", "heading"),
        "body",
        "heading_zh",
        "body_zh",
        ("translation_shown", "translation_checked"),
    ]
    readonly_fields = ["translation_shown"]
    ordering = ["position", "id"]
    classes = ["entry-sections"]
    # Each section a folded panel, with its English and Chinese side by side (panel_stacked.html).
    template = PANEL_TEMPLATE
    panels = True
    side_by_side = True

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        return fields if self.has_change_permission(request, obj) else self._without_tick(fields)

    @admin.display(description=_("Chinese translation"))
    def translation_shown(self, section):
        if section is None or section.pk is None:
            return "—"
        return translation_badge(section.translation, section.english_updated_at)


class StrengthFormSet(nested_admin.NestedInlineFormSet):
    """Applies the one-strength-per-identity rule across the rows of one save.

    Django validates an expression-based unique constraint one row at a time
    against the database, so two new or changed rows that collide with each
    other would otherwise only meet at the database, as an error page.
    """

    def _product_deleted(self):
        """Whether this formset's product is deleted in the same save (on the entry's screen)."""
        parent = getattr(self, "parent_form", None)
        return bool(parent is not None and (getattr(parent, "cleaned_data", None) or {}).get("DELETE"))

    def save(self, commit=True):
        # The product's deletion already removed its strengths; saving the rows again
        # would re-insert them under a product that no longer exists.
        if self._product_deleted():
            self.new_objects, self.changed_objects, self.deleted_objects = [], [], []
            return []
        return super().save(commit)

    def clean(self):
        super().clean()
        if self._product_deleted():
            return
        seen = {}
        for form in self.forms:
            if not form.cleaned_data or form.cleaned_data.get("DELETE") or form.errors:
                continue
            identity = form.instance.identity()
            if identity in seen:
                raise ValidationError(
                    _(
                        "Two rows describe the same strength (%(strength)s); this product already has this strength in this dosage form."
                    )
                    % {"strength": form.instance.display_strength}
                )
            seen[identity] = form


class StrengthInline(nested_admin.NestedStackedInline):
    """Stacked, in three short rows: a table of nine inputs was 2,370 px wide and its columns
    had no labels a screen reader could announce."""

    model = Strength
    formset = StrengthFormSet
    extra = 0
    is_sortable = False
    # The same fields, in the same order, as a strength in a snapshot and on the public page.
    fields = [
        tuple(EDITED_STRENGTH_FIELDS[0:4]),
        tuple(EDITED_STRENGTH_FIELDS[4:6]),
        EDITED_STRENGTH_FIELDS[6],
        tuple(EDITED_STRENGTH_FIELDS[7:9]),
    ]
    formfield_overrides = {models.DecimalField: {"widget": AmountInput}}
    classes = ["strengths"]
    # Headed with the product's name: three "15 mg Capsule" blocks could not be told apart.
    template = PANEL_TEMPLATE

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product")

    # Shown to readers (who cannot change them) as people write amounts: 2.5, not 2.5000.
    amounts_shown = {"amount": "amount_shown", "per_amount": "per_amount_shown"}

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if self.has_change_permission(request, obj):
            return fields
        return [tuple(self.amounts_shown.get(f, f) for f in row) if isinstance(row, tuple) else row for row in fields]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not self.has_change_permission(request, obj):
            readonly += self.amounts_shown.values()
        return readonly

    @admin.display(description=_("amount"))
    def amount_shown(self, strength):
        return format_amount(strength.amount)

    @admin.display(description=_("per amount"))
    def per_amount_shown(self, strength):
        return "" if strength.per_amount is None else format_amount(strength.per_amount)


class ProductInline(nested_admin.NestedStackedInline):
    """A product with its strengths, edited on the entry's own page."""

    model = Product
    extra = 0
    is_sortable = False
    show_change_link = True
    # The same fields, in the same order, as a product in a snapshot and on the public page.
    fields = [
        tuple(PRODUCT_FIELDS[0:3]),
        PRODUCT_FIELDS[3],
        tuple(PRODUCT_FIELDS[4:7]),
        PRODUCT_FIELDS[7],
    ]
    inlines = [StrengthInline]
    classes = ["entry-products"]
    # Each product a folded panel holding its strengths.
    template = PANEL_TEMPLATE
    panels = True


class ChineseTranslationFilter(admin.SimpleListFilter):
    title = _("Chinese translation")
    parameter_name = "chinese"

    def lookups(self, request, model_admin):
        return [
            ("stale_or_missing", _("Chinese translation stale or missing")),
            ("stale", _("Stale (the English changed since)")),
            ("missing", _("Missing for some part")),
        ]

    def queryset(self, request, queryset):
        return working_copy.entries_by_translation(queryset, self.value())


class ReviewDueFilter(admin.SimpleListFilter):
    title = _("periodic review")
    parameter_name = "review_due"

    def lookups(self, request, model_admin):
        return [("overdue", _("Overdue")), ("30days", _("Due within 30 days"))]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "overdue":
            return queryset.filter(state__next_review_due__lt=today)
        if self.value() == "30days":
            return queryset.filter(
                state__next_review_due__gte=today, state__next_review_due__lte=today + datetime.timedelta(days=30)
            )
        return queryset


class ErrorsInViewMixin:
    """Names the first invalid field in the message above the form; the page's script scrolls to it."""

    def render_change_form(self, request, context, *args, **kwargs):
        if context.get("errors"):
            context["first_error"] = first_error(
                context["adminform"].form, [inline.formset for inline in context["inline_admin_formsets"]]
            )
        return super().render_change_form(request, context, *args, **kwargs)


class RevisionedAdmin(
    AsciiIdMixin,
    BoundedSearchMixin,
    ErrorsInViewMixin,
    ReasonCommentMixin,
    nested_admin.NestedModelAdminMixin,
    VersionAdmin,
):
    """An entry or a product: edited with its inlines (django-nested-admin), every save one
    revision of the entry with the editor's reason, and a restore recorded as one."""

    form = VersionedEntryForm

    def log_addition(self, request, obj, message):
        entry = super().log_addition(request, obj, message)
        self._note_restore(request)
        return entry

    def log_change(self, request, obj, message):
        entry = super().log_change(request, obj, message)
        self._note_restore(request)
        return entry

    def _note_restore(self, request):
        # Inside the restore's own revision: which version it brought back (four-eyes follows it).
        # Every page of django-reversion that reverts a whole revision: an entry's or a product's
        # history ("…_revision") and the recover pages ("…_recover"); the version id is last.
        match = request.resolver_match
        url_name = getattr(match, "url_name", "") or ""
        if reversion.is_active() and url_name.endswith(("_revision", "_recover")):
            version_id = match.args[-1] if match.args else match.kwargs.get("version_id")
            restored_from = working_copy.revision_of_version(version_id)
            if restored_from is not None:
                reversion.add_meta(RestoredRevision, restored_from_id=restored_from)

    def revision_view(self, request, object_id, version_id, extra_context=None):
        response = super().revision_view(request, object_id, version_id, extra_context)
        # django-reversion writes its own comment on a restore after the form's reason; the reason
        # (of the form just saved: the redirect says it was valid) is added to it.
        reason = request.POST.get("change_reason", "").strip()
        if request.method == "POST" and response.status_code == 302 and reason:
            latest = reversion.models.Version.objects.get_for_object_reference(self.model, object_id).first()
            if latest is not None:
                revision = latest.revision
                revision.comment = f"{revision.comment}: {reason}"
                revision.save(update_fields=["comment"])
        return response


@admin.register(Entry)
class EntryAdmin(ReviewAdminMixin, TranslationCheckedMixin, RevisionedAdmin):
    form = EntryForm
    checked_field = "boxed_warning_checked"
    list_display = [
        "generic_name",
        "drug_class",
        "review_state",
        "is_live",
        "chinese_translation",
        "next_review_due",
        "updated_at",
    ]
    list_filter = [
        ("state__state", admin.ChoicesFieldListFilter),
        ReviewDueFilter,
        ChineseTranslationFilter,
        "drug_class",
        ("products__formulary_status", admin.ChoicesFieldListFilter),
        ("products__legal_classification", admin.ChoicesFieldListFilter),
        ("products__kind", admin.ChoicesFieldListFilter),
    ]
    search_fields = ["generic_name", "synonyms", "products__name", "products__strengths__registration_number"]
    list_select_related = ["state"]
    prepopulated_fields = {"slug": ["generic_name"]}
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "generic_name",
                    "chinese_name",
                    "slug",
                    "synonyms",
                    "chinese_synonyms",
                    "drug_class",
                    "atc_code",
                    "notes",
                ]
            },
        ),
        (
            _("Safety"),
            {
                "fields": [
                    ("pregnancy_warning", "pregnancy_prevention_programme"),
                    ("high_alert", "cytotoxic"),
                    "boxed_warning",
                    "boxed_warning_zh",
                    ("boxed_warning_translation_shown", "boxed_warning_checked"),
                ],
                "description": _(
                    "What staff must warn about; shown as badges on the public page after review. "
                    "'Dangerous drug' follows from the products' legal classification."
                ),
            },
        ),
        # Shown after the sections and products, next to the save buttons (change_form.html).
        (
            _("Reason for change"),
            {"fields": ["change_reason", "review_note", "base_revision"], "classes": ["reason-for-change"]},
        ),
    ]
    readonly_fields = ["boxed_warning_translation_shown"]
    inlines = [SectionInline, ProductInline]
    history_latest_first = True
    actions = ["submit_selected"]
    object_history_template = "admin/monographs/entry/object_history.html"
    revision_form_template = "admin/monographs/entry/revision_form.html"
    change_list_template = "admin/monographs/entry/change_list.html"

    def changelist_view(self, request, extra_context=None):
        awaiting = working_copy.review_queue().count()
        return super().changelist_view(request, {**(extra_context or {}), "awaiting_review": awaiting})

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if getattr(request.resolver_match, "url_name", "") == "monographs_entry_changelist":
            # The list's translation column, worked out in the list's own query.
            queryset = working_copy.with_translation_state(queryset)
        return queryset

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if self.has_change_permission(request, obj):
            return fieldsets
        return [(name, {**options, "fields": self._without_tick(options["fields"])}) for name, options in fieldsets]

    @admin.display(description=_("Chinese"))
    def chinese_translation(self, entry):
        stale, missing, translated = working_copy.translation_state(entry)
        if stale:
            return translation_badge(TranslationStatus.STALE)
        if not translated:
            return gettext("not translated")
        if missing:
            return format_html('<span class="translation-badge translation-partial">{}</span>', gettext("partly"))
        return translation_badge(TranslationStatus.CURRENT)

    @admin.display(description=_("Chinese translation"))
    def boxed_warning_translation_shown(self, entry):
        if entry is None or entry.pk is None:
            return "—"
        return translation_badge(entry.boxed_warning_translation) or gettext("No English boxed warning.")

    @admin.display(description=_("review state"), ordering="state__state")
    def review_state(self, entry):
        return entry.state.get_state_display()

    @admin.display(description=_("on public pages"), boolean=True)
    def is_live(self, entry):
        return entry.state.live_edition_id is not None

    @admin.display(description=_("next review due"), ordering="state__next_review_due")
    def next_review_due(self, entry):
        return entry.state.next_review_due

    @admin.action(description=_("Submit selected entries for review"), permissions=["submit"])
    def submit_selected(self, request, queryset):
        done = 0
        for entry in queryset:
            try:
                workflow.submit(entry=entry, user=request.user)
                done += 1
            except (workflow.TransitionError, PermissionDenied) as error:
                self.message_user(request, f"{entry}: {error}", messages.WARNING)
        if done:
            self.message_user(request, _("%d entries submitted for review.") % done, messages.SUCCESS)

    def has_submit_permission(self, request):
        return workflow.can_submit_any(request.user)

    # The save row's buttons that do more than save, by their POST name: each names the action run
    # once the save's revision is committed, as `<name>_action(request, entry)` (Wagtail's
    # `action_name` → method dispatch). The admin's own buttons only save.
    save_actions = {"_saveandsubmit": "submit"}

    def action_name(self, request):
        """The action the pressed button asks for after the save, or None."""
        if request.method != "POST":
            return None
        return next((name for button, name in self.save_actions.items() if button in request.POST), None)

    def response_add(self, request, obj, post_url_continue=None):
        if self.action_name(request):
            return HttpResponseRedirect(reverse("admin:monographs_entry_change", args=[obj.pk]))
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        if self.action_name(request):
            return HttpResponseRedirect(reverse("admin:monographs_entry_change", args=[obj.pk]))
        if getattr(request.resolver_match, "url_name", "").endswith(("_revision", "_recover")):
            # A restore lands on the entry at its submit step: one press submits what was restored.
            self.message_user(
                request,
                _("Restored: this version is the draft now. Submit it for review below when it is ready."),
                messages.SUCCESS,
            )
            return HttpResponseRedirect(reverse("admin:monographs_entry_change", args=[obj.pk]) + "#submit-step")
        return super().response_change(request, obj)

    def revision_view(self, request, object_id, version_id, extra_context=None):
        # Restoring offers "Save and submit" too: restored and submitted in one press.
        state = working_copy.state_of(object_id) if as_id(object_id) is not None else None
        extra_context = {
            **(extra_context or {}),
            "can_save_and_submit": state is not None
            and self.has_submit_permission(request)
            and workflow.can_edit(request.user, state.entry),
        }
        return self._run_action(request, super().revision_view(request, object_id, version_id, extra_context))

    def _run_action(self, request, response):
        """The pressed button's action, once the save went through and django-reversion has
        committed its revision (the admin's view has returned). A valid save with an action
        answers with a redirect to the entry saved (`response_add`, `response_change`); any
        other answer (the form again with its errors, a refusal) is returned as it is."""
        name = self.action_name(request)
        if name is None or response.status_code != 302:
            return response
        match = resolve(urlsplit(response.url).path)
        entry = Entry.objects.filter(pk=as_id(match.kwargs.get("object_id", ""))).first()
        if match.url_name != "monographs_entry_change" or entry is None:
            return response
        return getattr(self, f"{name}_action")(request, entry)

    def submit_action(self, request, entry):
        """ "Save and submit": the version just saved goes to review with the editor's note."""
        note = SubmitForm({"comment": request.POST.get("review_note", "")})
        return self._transition(
            request,
            entry,
            workflow.submit,
            comment=note.cleaned_data["comment"] if note.is_valid() else "",
            success=_("Saved and submitted for review."),
            refused=_("Your changes were saved, but not submitted: %s"),
            unnotified=_(
                "Saved and submitted for review, but the email to the reviewers could not be sent "
                "(the error was logged); tell them yourself."
            ),
            nobody=_("No reviewer could be emailed (none has an email address); tell them yourself."),
            next_url=reverse("admin:monographs_entry_change", args=[entry.pk]),
        )

    def add_view(self, request, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "can_save_and_submit": self.has_submit_permission(request)}
        return self._run_action(request, super().add_view(request, form_url, extra_context))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if as_id(object_id) is None:
            # A malformed address: `AsciiIdMixin.get_object` answers 404.
            return super().change_view(request, object_id, form_url, extra_context)
        state = working_copy.state_of(object_id)
        user = request.user
        latest = working_copy.latest_revision(state.entry) if state is not None else None
        extra_context = {
            **(extra_context or {}),
            "workflow_state": state,
            # The reviewer's reasons stay in view until the next transition, not forever.
            "last_rejection": working_copy.standing_rejection(object_id),
            # Which actions to offer: the workflow's own answers, asked again when they are taken.
            "can_submit": state is not None and workflow.can_submit(user, state.entry, state),
            "awaiting_review": state is not None and workflow.awaits_review(state.entry, state),
            "can_withdraw": state is not None and workflow.can_withdraw(user, state.entry, state),
            "can_unschedule": state is not None and workflow.can_unschedule(user, state.entry, state),
            "state_token": state is not None and workflow.state_token(state.entry),
            "overdue": working_copy.overdue_schedules(entry_id=object_id),
            # What the content checks find in the working copy, before anyone submits it.
            "submission_findings": workflow.submission_findings(state.entry) if state is not None else [],
            "can_save_and_submit": state is not None
            and self.has_submit_permission(request)
            and workflow.can_edit(user, state.entry),
            "submit_form": SubmitForm(initial={"revision": latest.pk if latest else None}),
        }
        return self._run_action(request, super().change_view(request, object_id, form_url, extra_context))


@admin.register(Product)
class ProductAdmin(RevisionedAdmin):
    list_display = ["name", "entry", "kind", "certificate_holder", "legal_classification", "formulary_status"]
    list_filter = ["kind", "formulary_status", "legal_classification", "sale_requirement"]
    search_fields = ["name", "certificate_holder", "entry__generic_name", "strengths__registration_number"]
    list_select_related = ["entry"]
    autocomplete_fields = ["entry"]
    fieldsets = [
        (
            None,
            {"fields": ["entry", *PRODUCT_FIELDS]},
        ),
        (_("Reason for change"), {"fields": ["change_reason", "base_revision"]}),
    ]
    inlines = [StrengthInline]
    history_latest_first = True

    def get_readonly_fields(self, request, obj=None):
        # Moving a product to another entry would change two entries in one
        # save, with only one of them reviewed; create it anew instead.
        return ["entry"] if obj else []

    def delete_model(self, request, obj):
        services.products_delete(products=[obj], user=request.user)

    def delete_queryset(self, request, queryset):
        services.products_delete(products=queryset.select_related("entry"), user=request.user)


class DrugClassForm(forms.ModelForm):
    change_reason = forms.CharField(
        label=_("Reason for change"),
        max_length=500,
        help_text=_("Recorded in the history with your name, e.g. 'Chinese name as the Drug Office lists it'."),
        widget=forms.TextInput(attrs={"size": 80}),
    )

    class Meta:
        model = DrugClass
        fields = ["name", "name_zh", "slug"]


@admin.register(DrugClass)
class DrugClassAdmin(AsciiIdMixin, BoundedSearchMixin, ReasonCommentMixin, VersionAdmin):
    """Drug classes: changed by editors (the Editors role's permissions), each save one revision
    with the editor's reason. Entries record their class in their own revisions, so a changed
    name reaches a public page with that entry's next reviewed edition."""

    form = DrugClassForm
    list_display = ["name", "name_zh", "slug", "entry_count"]
    search_fields = ["name", "name_zh", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    history_latest_first = True

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_entries=models.Count("entries"))

    @admin.display(description=_("entries"), ordering="_entries")
    def entry_count(self, obj):
        return obj._entries


class ReadOnlyAdmin(AsciiIdMixin, admin.ModelAdmin):
    """Records nobody may add, change or delete here, superusers included."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(BoundedSearchMixin, ReadOnlyAdmin):
    list_display = ["created_at", "entry", "action", "from_state", "to_state", "who", "comment"]
    list_filter = ["action", "to_state"]
    search_fields = ["entry__generic_name", "comment", "actor__username"]
    list_select_related = ["entry", "actor__staff_profile"]
    date_hierarchy = "created_at"

    @admin.display(description=_("actor"), ordering="actor")
    def who(self, event):
        # Directory accounts by the directory's display name and staff number, as on the review pages.
        return staff_name(event.actor)


@admin.register(Edition)
class EditionAdmin(BoundedSearchMixin, ReadOnlyAdmin):
    list_display = ["generic_name", "number", "reviewer", "approved_at", "next_review_due"]
    search_fields = ["generic_name"]
    list_select_related = ["approved_by__staff_profile"]

    @admin.display(description=_("approved by"), ordering="approved_by")
    def reviewer(self, edition):
        return staff_name(edition.approved_by)

    exclude = ["content"]


@admin.register(OutboxMail)
class OutboxMailAdmin(BoundedSearchMixin, admin.ModelAdmin):
    """Outgoing mail as the worker left it: what is queued, sent, or failed for good
    and why (an address the mail server refuses), for staff to act on. Read-only: the worker
    owns these rows; the job of each is in the job queue's admin (procrastinate)."""

    list_display = ["subject", "kind", "status", "attempts", "created_at", "sent_at", "recipients"]
    list_filter = ["status", "kind"]
    search_fields = ["subject", "message_id"]
    readonly_fields = [f.name for f in OutboxMail._meta.fields]

    @admin.display(description=_("recipients"))
    def recipients(self, mail):
        return ", ".join(mail.to + mail.bcc)[:200]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(BuiltBooklet)
class BuiltBookletAdmin(admin.ModelAdmin):
    """The booklets the worker built: when, how long it took, how large (read-only)."""

    list_display = ["__str__", "drug_class", "language", "built_at", "build_seconds", "size"]
    list_filter = ["language"]
    exclude = ["pdf"]
    readonly_fields = ["drug_class", "language", "content_key", "entries", "stamp", "built_at", "build_seconds", "size"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
