"""Review screens in the admin: queue, review page, compare, submit, withdraw.

Thin views: each decision is one call into `workflow`, which holds the rules.
"""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import fragments, selectors, workflow, working_copy
from .diffing import ChangeSummary, change_summary, compare, translation_texts
from .forms import CompareForm, DecisionForm, ReviewDecisionForm, SubmitForm, WithdrawForm
from .models import Entry
from .periods import local_datetime
from .snapshots import has_chinese_text, snapshot_of_revision, translation_findings
from .text_rules import as_id

# The go-live time on the approve button, short: "4 Dec 09:00" / "12月4日 09:00".
SHORT_WHEN = {"en": "j M H:i", "zh-hant": "n月j日 H:i"}


def approve_label(go_live_at, waiting):
    """What the approve button does, in its own words: when it goes live, or that it publishes now."""
    if waiting is not None:
        return _("Approve, replacing the waiting edition")
    if go_live_at:
        when = formats.date_format(
            timezone.localtime(go_live_at), SHORT_WHEN.get(translation.get_language(), "j M H:i")
        )
        return _("Approve — goes live on %(when)s") % {"when": when}
    return _("Approve and publish now")


class ReviewAdminMixin:
    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("review-queue/", view(self.review_queue_view), name="monographs_entry_review_queue"),
            path("find/", view(self.find_view), name="monographs_entry_find"),
            path("<int:object_id>/review/", view(self.review_view), name="monographs_entry_review"),
            path("<int:object_id>/submit/", view(require_POST(self.submit_view)), name="monographs_entry_submit"),
            path("<int:object_id>/withdraw/", view(self.withdraw_view), name="monographs_entry_withdraw"),
            path("<int:object_id>/compare/", view(self.compare_view), name="monographs_entry_compare"),
            path(
                "<int:object_id>/unschedule/",
                view(require_POST(self.unschedule_view)),
                name="monographs_entry_unschedule",
            ),
            path("<int:object_id>/preview/", view(self.preview_view), name="monographs_entry_preview"),
            *super().get_urls(),
        ]

    def _entry(self, request, object_id):
        entry = get_object_or_404(self.get_queryset(request), pk=object_id)
        if not self.has_view_permission(request, entry):
            raise PermissionDenied
        return entry

    def _context(self, request, entry, **extra):
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": entry,
            "entry": entry,
            "state": working_copy.state_of(entry.pk),
            **extra,
        }

    def _refused(self, request, entry, error, status=400, **extra):
        messages.error(request, str(error))
        response = TemplateResponse(
            request,
            "admin/monographs/entry/refused.html",
            self._context(request, entry, title=_("Not done"), reason=str(error), **extra),
            status=status,
        )
        return response

    def _transition(
        self,
        request,
        entry,
        action,
        *,
        success,
        next_url,
        unnotified=None,
        nobody=None,
        refused=None,
        reopen_url=None,
        **kwargs,
    ):
        """Run one workflow transition; its refusal becomes a page that says why.

        The message says whom a mail was queued for (`jobs.transition_recorded` notes it on the
        event; the worker sends it, with retries, and the admin's outgoing mail shows whether it
        went), or `nobody` when no one could be mailed (no email address). `unnotified` replaces
        it when a signal receiver failed after the commit. `refused` words a refusal (with %s for the reason), e.g. after a save.
        """
        try:
            event = action(entry=entry, user=request.user, **kwargs)
        except PermissionDenied as error:
            return self._refused(request, entry, refused % error if refused else error, status=403)
        except workflow.StaleReviewError as error:
            current = error.current_revision and reverse("admin:monographs_entry_review", args=[entry.pk])
            return self._refused(request, entry, error, status=409, current_url=current)
        except workflow.StaleStateError as error:
            reopen = reopen_url or request.path
            return self._refused(request, entry, error, status=409, changes=error.changes, reopen_url=reopen)
        except workflow.ContentCheckError as error:
            return self._refused(request, entry, error, status=409, findings=error.findings)
        except workflow.TransitionError as error:
            return self._refused(request, entry, refused % error if refused else error, status=409)
        if getattr(event, "notification_failed", False):
            messages.warning(
                request,
                unnotified or _("%s The notification email could not be sent; the error was logged.") % success,
            )
            return redirect(next_url)
        recipients = getattr(event, "notified", None)
        if recipients:
            emailed = ", ".join(f"{user.get_full_name() or user.get_username()} <{user.email}>" for user in recipients)
            messages.success(
                request, _("%(done)s Mail queued for: %(recipients)s.") % {"done": success, "recipients": emailed}
            )
        elif recipients is not None and nobody:
            messages.warning(request, f"{success} {nobody}")
        else:
            # No mail belongs to this action, or it is sent only when an outer transaction commits.
            messages.success(request, success)
        return redirect(next_url)

    def review_queue_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        queue = working_copy.review_queue()
        scheduled = working_copy.scheduled()
        overdue = working_copy.overdue_schedules()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Entries awaiting review"),
            "queue": queue,
            "scheduled": scheduled,
            "overdue": overdue,
        }
        return TemplateResponse(request, "admin/monographs/entry/review_queue.html", context)

    def find_view(self, request):
        """The admin home's search box: one entry found opens its edit screen (the form's GET and
        this redirect are one page load); several are listed, each with its edit screen."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        term = request.GET.get("q", "")
        found = working_copy.find_entries(term)
        if len(found) == 1:
            return redirect("admin:monographs_entry_change", found[0].pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Find an entry"),
            "term": term,
            "found": found,
            "limit": working_copy.FIND_LIMIT,
        }
        return TemplateResponse(request, "admin/monographs/entry/find.html", context)

    def review_view(self, request, object_id):
        entry = self._entry(request, object_id)
        state = working_copy.review_state(entry)
        waiting = state.scheduled_edition
        form = ReviewDecisionForm(
            request.POST or None,
            initial={"revision": state.submitted_revision_id, "seen": workflow.state_token(entry)},
        )
        if request.method == "POST":
            decision = request.POST.get("decision")
            if decision not in ("approve", "reject"):
                return self._refused(request, entry, _("Choose approve or reject."))
            approve = decision == "approve"
            shown = form.cleaned_data.get("revision") if form.is_valid() else None
            current = form.is_valid() and form.cleaned_data["seen"] == workflow.state_token(entry)
            if approve and current and shown == state.submitted_revision_id:
                # Asked here first, so the reviewer gets the page back with the tick to give;
                # `workflow.approve` refuses the same again under the lock.
                if not form.cleaned_data["publish_outdated_chinese"]:
                    stale = workflow.submitted_stale_translations(entry, state.submitted_revision)
                    if stale:
                        form.add_error("publish_outdated_chinese", str(workflow.StaleTranslationError(stale)))
                if waiting is not None and not form.cleaned_data["replace_waiting"]:
                    form.add_error("replace_waiting", str(workflow.WaitingEditionError(waiting)))
            if form.is_valid():
                return self._decide(request, entry, form, approve=approve, waiting=waiting)
        if not workflow.awaits_review(entry, state):
            context = self._context(request, entry, title=_("Review %s") % entry, not_in_review=True)
            return TemplateResponse(request, "admin/monographs/entry/review.html", context)
        revision = state.submitted_revision
        # Compared with what goes live next if nothing is decided: the edition waiting to go live,
        # else the live one; a withdrawn entry with its last edition (what the public saw last).
        live = state.live_edition
        against_live = request.GET.get("against") == "live" and waiting is not None
        # A withdrawn entry: what the public saw last (an edition cancelled before going live never was).
        previous = (live if against_live else waiting) or live or working_copy.last_live_edition(entry)
        content = snapshot_of_revision(revision, entry.pk)
        fields, sections, products = compare(previous.content if previous else None, content)
        boxed_texts = translation_texts(
            previous.content if previous else {}, content, fields, ("boxed_warning",), ("boxed_warning_zh",)
        )
        may_approve, refusal = workflow.may_approve(request.user, entry, revision)
        translations = translation_findings(content)
        typed_go_live = form.cleaned_data.get("go_live_at") if form.is_bound and hasattr(form, "cleaned_data") else None
        context = self._context(
            request,
            entry,
            title=_("Review %s") % entry,
            form=form,
            revision=revision,
            field_changes=fields,
            section_changes=sections,
            product_changes=products,
            against=_("edition %d") % previous.number if previous else _("nothing (never published)"),
            waiting=waiting,
            withdrawn=working_copy.standing_withdrawal(entry.pk) if live is None else None,
            waiting_changes=change_summary(live.content if live else None, waiting.content) if waiting else None,
            against_live=against_live,
            may_approve=may_approve,
            refusal=refusal,
            can_review=workflow.can_review(request.user, entry, state),
            findings=workflow.submission_findings(entry, revision),
            translation_findings=translations,
            # An entry with no Chinese at all is said in one line, not as every part "missing".
            untranslated=not has_chinese_text(content),
            stale_translations=workflow.stale_translations(content),
            notes=working_copy.review_notes(entry, revision),
            preview_languages=settings.LANGUAGES,
            approve_label=approve_label(typed_go_live, waiting),
            boxed_warning_texts=boxed_texts,
            boxed_warning_label=Entry._meta.get_field("boxed_warning").verbose_name,
            approve_later_label=_("Approve — goes live on %(when)s") % {"when": "{when}"},
            approve_now_label=_("Approve and publish now"),
        )
        return TemplateResponse(request, "admin/monographs/entry/review.html", context)

    def _decide(self, request, entry, form, *, approve, waiting):
        """Approve or reject as the valid review form says; the message says what happened,
        including an edition waiting to go live that the approval replaced."""
        data = form.cleaned_data
        go_live_at = data.get("go_live_at") if approve else None
        if not approve:
            success = _("Rejected.")
        elif go_live_at:
            success = _("Approved; it goes live on %(when)s.") % {"when": local_datetime(go_live_at)}
        else:
            success = _("Approved and published.")
        if approve and waiting is not None:
            success += " " + _(
                "Edition %(number)d, which was waiting to go live on %(when)s, was replaced and will not go live."
            ) % {"number": waiting.number, "when": local_datetime(waiting.effective_at)}
        if approve:
            # Approval claims no mail, so the general "could not be sent" addition suits it.
            unnotified = None
            nobody = _("Nobody could be emailed: the authors of the changes have no email address.")
            extra = {
                "effective_at": go_live_at,
                "accept_stale_translations": data["publish_outdated_chinese"],
                "replace_waiting": data["replace_waiting"],
            }
        else:
            unnotified = _(
                "Rejected, but the email telling the author why could not be sent (the error was logged); "
                "tell them yourself."
            )
            nobody = _("Nobody could be emailed (no email address): tell the author why yourself.")
            extra = {}
        return self._transition(
            request,
            entry,
            workflow.approve if approve else workflow.reject,
            revision=data["revision"],
            comment=data["comment"],
            seen=data["seen"],
            **extra,
            success=success,
            unnotified=unnotified,
            nobody=nobody,
            next_url=reverse("admin:monographs_entry_review_queue"),
        )

    def submit_view(self, request, object_id):
        entry = self._entry(request, object_id)
        form = SubmitForm(request.POST)
        if not form.is_valid():
            if "comment" not in form.errors:
                # Only the hidden version number can be wrong otherwise: not typed by anyone.
                return self._refused(
                    request, entry, _("Not submitted: this page is damaged or out of date; open the entry again.")
                )
            problems = " ".join(form.errors["comment"])
            return self._refused(request, entry, _("Not submitted. Note for the reviewer: %s") % problems)
        shown = form.cleaned_data["revision"]
        latest = working_copy.latest_revision(entry)
        if shown and latest and shown != latest.pk:
            return self._refused(
                request,
                entry,
                _(
                    "Not submitted: the entry was saved again after this page was opened. "
                    "Open it again to see the version you would submit."
                ),
                status=409,
            )
        return self._transition(
            request,
            entry,
            workflow.submit,
            comment=form.cleaned_data["comment"],
            success=_("Submitted for review."),
            nobody=_("No reviewer could be emailed (none has an email address); tell them yourself."),
            unnotified=_(
                "Submitted for review, but the email to the reviewers could not be sent (the error was logged); "
                "tell them yourself."
            ),
            next_url=reverse("admin:monographs_entry_change", args=[entry.pk]),
        )

    def withdraw_view(self, request, object_id):
        entry = self._entry(request, object_id)
        form = WithdrawForm(request.POST or None, initial={"seen": workflow.state_token(entry)})
        if request.method == "POST" and form.is_valid():
            withdraw_at = form.cleaned_data.get("withdraw_at")
            return self._transition(
                request,
                entry,
                workflow.withdraw,
                comment=form.cleaned_data["comment"],
                seen=form.cleaned_data["seen"],
                effective_at=withdraw_at,
                success=_("Withdrawal scheduled for %(when)s.") % {"when": local_datetime(withdraw_at)}
                if withdraw_at
                else _("Withdrawn from the public pages."),
                next_url=reverse("admin:monographs_entry_change", args=[entry.pk]),
            )
        context = self._context(request, entry, title=_("Withdraw %s") % entry, form=form)
        return TemplateResponse(request, "admin/monographs/entry/withdraw.html", context)

    def unschedule_view(self, request, object_id):
        entry = self._entry(request, object_id)
        form = DecisionForm(request.POST)
        if not form.is_valid():
            if "seen" in form.errors:
                return self._refused(request, entry, " ".join(form.errors["seen"]), status=409)
            return self._refused(request, entry, _("Give a reason for cancelling the schedule."))
        return self._transition(
            request,
            entry,
            workflow.unschedule,
            comment=form.cleaned_data["comment"],
            seen=form.cleaned_data["seen"],
            success=_(
                "Schedule cancelled: the waiting edition will not go live. An approved version that was "
                "waiting is a draft again and must be submitted and reviewed again."
            ),
            reopen_url=reverse("admin:monographs_entry_change", args=[entry.pk]),
            next_url=reverse("admin:monographs_entry_change", args=[entry.pk]),
        )

    def compare_view(self, request, object_id):
        entry = self._entry(request, object_id)
        form = CompareForm(request.GET)
        if not form.is_valid():
            return self._refused(request, entry, _("Choose two versions of this entry to compare."))
        old_id, new_id = form.cleaned_data["old"], form.cleaned_data["new"]
        if not {old_id, new_id} <= working_copy.revision_ids(entry):
            return self._refused(request, entry, _("Those are not versions of this entry."), status=404)
        if old_id == new_id:
            return self._refused(request, entry, _("Choose two different versions."))
        old, new = working_copy.revisions([old_id, new_id])
        fields, sections, products = compare(snapshot_of_revision(old, entry.pk), snapshot_of_revision(new, entry.pk))
        context = self._context(
            request,
            entry,
            title=_("Compare versions of %s") % entry,
            old=old,
            new=new,
            field_changes=fields,
            section_changes=sections,
            product_changes=products,
        )
        return TemplateResponse(request, "admin/monographs/entry/compare.html", context)

    def preview_view(self, request, object_id):
        """The version awaiting review (else the last saved one) exactly as the public page will show
        it once approved: the public templates themselves, given a snapshot of that revision as the
        next edition. Staff only (the admin's login), never cached, never indexed."""
        entry = self._entry(request, object_id)
        revision = working_copy.submitted_revision(entry) or working_copy.latest_revision(entry)
        if revision is None:
            raise Http404("This entry has no saved version.")
        now = timezone.now()
        edition = workflow.next_edition(entry=entry, revision=revision, approved_at=now)
        content = edition.content
        codes = [code for code, _name in settings.LANGUAGES]
        language = request.GET.get("language")
        language = language if language in codes else translation.get_language()
        live = working_copy.state_of(entry.pk).live_edition
        with translation.override(language):
            # As views.entry_detail renders the page, with this version as the next edition:
            # what it changes against the live one, and the live entry's public history.
            upcoming = selectors.PublishedEdition(
                number=edition.number,
                approved_at=now,
                approved_by="",
                changes=change_summary(live.content, content) if live else ChangeSummary(),
            )
            history = [upcoming, *(selectors.edition_history(live) if live else [])]
            monograph = fragments.monograph_html(edition, history, preview=True, request=request)
            page = render_to_string(
                "monographs/entry_detail.html",
                fragments.entry_page_context(request, edition, monograph),
                request=request,
            )
        response = HttpResponse(page)
        response["Content-Language"] = language
        response["X-Robots-Tag"] = "noindex"
        return response

    def history_view(self, request, object_id, extra_context=None):
        if as_id(object_id) is None:  # ASCII digits only: "²".isdigit() is true
            return super().history_view(request, object_id, extra_context)
        events = working_copy.audit_trail(object_id)
        entry = working_copy.state_of(object_id)
        extra_context = {
            **(extra_context or {}),
            "audit_events": events,
            "history_rows": [
                (reverse("admin:monographs_entry_revision", args=[object_id, version_id]), revision, edition)
                for version_id, revision, edition in working_copy.history(object_id)
            ],
            "can_restore": entry is not None and workflow.can_edit(request.user, entry.entry),
            "compare_url": reverse("admin:monographs_entry_compare", args=[object_id]),
        }
        return super().history_view(request, object_id, extra_context)
