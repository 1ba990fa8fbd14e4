"""Admin for pharmacists: thin, every save versioned with a required reason."""

import reversion
from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from reversion.admin import VersionAdmin

from . import versioning  # noqa: F401  register follows before VersionAdmin auto-registers
from .models import Entry, Product, Section, Strength


class ReasonForm(forms.ModelForm):
    change_reason = forms.CharField(
        label=_("Reason for change"),
        max_length=500,
        help_text=_("Recorded in the history with your name, e.g. 'Updated storage advice per new PI'."),
        widget=forms.TextInput(attrs={"size": 80}),
    )


class ReasonAdminMixin:
    """Requires a reason for every save and stores it as the revision comment."""

    form = ReasonForm

    def save_model(self, request, obj, form, change):
        request._change_reason = form.cleaned_data["change_reason"]
        super().save_model(request, obj, form, change)

    def _set_reason(self, request):
        reason = getattr(request, "_change_reason", "")
        if reason and reversion.is_active():
            reversion.set_comment(reason)

    # VersionAdmin writes the admin change message as the comment here; the
    # pharmacist's own words are what reviewers need.
    def log_addition(self, request, obj, message):
        entry = super().log_addition(request, obj, message)
        self._set_reason(request)
        return entry

    def log_change(self, request, obj, message):
        entry = super().log_change(request, obj, message)
        self._set_reason(request)
        return entry

    def revision_view(self, request, object_id, version_id, extra_context=None):
        response = super().revision_view(request, object_id, version_id, extra_context)
        reason = getattr(request, "_change_reason", "")
        if request.method == "POST" and response.status_code == 302 and reason:
            # django-reversion overwrites the comment of a restore; keep the reason with it.
            latest = reversion.models.Version.objects.get_for_object_reference(self.model, object_id).first()
            if latest is not None:
                revision = latest.revision
                revision.comment = f"{revision.comment}: {reason}"
                revision.save(update_fields=["comment"])
        return response


class SectionInline(admin.StackedInline):
    model = Section
    extra = 0
    fields = [("position", "kind", "heading"), "body"]
    ordering = ["position", "id"]


class ProductInline(admin.TabularInline):
    model = Product
    extra = 0
    show_change_link = True
    fields = ["name", "kind", "certificate_holder", "legal_classification", "sale_requirement", "formulary_status"]


class StrengthInline(admin.TabularInline):
    model = Strength
    extra = 0
    fields = [
        "amount",
        "unit",
        "per_amount",
        "per_unit",
        "dosage_form",
        "route",
        "appearance",
        "pack_size",
        "registration_number",
    ]


@admin.register(Entry)
class EntryAdmin(ReasonAdminMixin, VersionAdmin):
    list_display = ["generic_name", "drug_class", "atc_code", "updated_at"]
    list_filter = [
        "drug_class",
        ("products__formulary_status", admin.ChoicesFieldListFilter),
        ("products__legal_classification", admin.ChoicesFieldListFilter),
        ("products__kind", admin.ChoicesFieldListFilter),
    ]
    search_fields = ["generic_name", "synonyms", "products__name", "products__strengths__registration_number"]
    prepopulated_fields = {"slug": ["generic_name"]}
    fieldsets = [
        (None, {"fields": ["generic_name", "slug", "synonyms", "drug_class", "atc_code", "notes"]}),
        (_("Reason for change"), {"fields": ["change_reason"]}),
    ]
    inlines = [SectionInline, ProductInline]
    history_latest_first = True


@admin.register(Product)
class ProductAdmin(ReasonAdminMixin, VersionAdmin):
    list_display = ["name", "entry", "kind", "certificate_holder", "legal_classification", "formulary_status"]
    list_filter = ["kind", "formulary_status", "legal_classification", "sale_requirement"]
    search_fields = ["name", "certificate_holder", "entry__generic_name", "strengths__registration_number"]
    list_select_related = ["entry"]
    autocomplete_fields = ["entry"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "entry",
                    "name",
                    "kind",
                    "certificate_holder",
                    "legal_classification",
                    "sale_requirement",
                    "formulary_status",
                    "notes",
                ]
            },
        ),
        (_("Reason for change"), {"fields": ["change_reason"]}),
    ]
    inlines = [StrengthInline]
    history_latest_first = True
