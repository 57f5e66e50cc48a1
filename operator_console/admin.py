"""The operator console: the review queue, readable decision traces, users' signals and
personas, bulk review with confirmation, and the analytics page."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from rest_framework.exceptions import APIException

from accounts.models import User
from consent.admin import ConsentingUsersAdmin, ConsentScopedUserAdmin
from consent.selectors import visible_to_staff
from operator_console import services
from operator_console.models import RecommendationRevision
from operator_console.selectors import review_items
from recommendations.engine.personas import PRIORITY
from recommendations.models import PersonaAssignment, Recommendation, SignalSnapshot
from spendsense.api.request import request_meta
from uploads.models import DataUpload


def _actor(request: HttpRequest) -> User:
    """The signed-in console user (the admin views require one)."""
    if not isinstance(request.user, User):
        raise PermissionDenied
    return request.user


def render_trace(trace: dict[str, Any]) -> SafeString:
    """A decision trace as a reader wants it: why this item, persona matches, eligibility."""
    if not trace:
        return format_html("<em>{}</em>", "no trace")
    item = trace.get("item", {})
    personas = trace.get("personas", {})
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td><strong>{}</strong></td><td>{}</td><td>{}</td></tr>",
        (
            (
                window,
                p.get("persona") or "none",
                ", ".join(p.get("matched", [])) or "-",
                p.get("reason", ""),
            )
            for window, p in personas.items()
        ),
    )
    eligibility = format_html_join(
        "",
        "<li>{}: {} (value {}, threshold {})</li>",
        (
            (r["rule"], "passed" if r["passed"] else "failed", r.get("value"), r.get("threshold"))
            for r in trace.get("eligibility", [])
        ),
    )
    excluded = format_html_join(
        "",
        "<li>{}: {}</li>",
        ((e["slug"], ", ".join(e.get("reasons", []))) for e in trace.get("excluded_offers", [])),
    )
    signals = format_html_join(
        "",
        "<tr><td>{}</td><td><code>{}</code></td></tr>",
        (
            (window, json.dumps(figures, default=str))
            for window, figures in trace.get("signals", {}).items()
        ),
    )
    return format_html(
        '<div class="trace"><p>Chosen for the <strong>{}</strong> window; '
        "score {}; because: {}.</p>"
        "<table><tr><th>window</th><th>persona</th><th>matched</th><th>why</th></tr>{}</table>"
        "<p>Eligibility:</p><ul>{}</ul><p>Offers left out:</p><ul>{}</ul>"
        "<p>Figures:</p><table>{}</table><p>Engine {}, catalog {}, as of {}.</p></div>",
        trace.get("window", "?"),
        item.get("score", "?"),
        "; ".join(item.get("reasons", [])) or "general relevance",
        rows,
        eligibility or format_html("<li>{}</li>", "no rules (education item)"),
        excluded or format_html("<li>{}</li>", "none"),
        signals,
        trace.get("engine_version", "?"),
        trace.get("catalog_version", "?"),
        trace.get("as_of", "?"),
    )


def render_signals(user_id: Any) -> SafeString:
    snapshots = SignalSnapshot.objects.filter(user_id=user_id).order_by("window")
    if not snapshots:
        return format_html("<em>{}</em>", "no signals yet")
    return format_html_join(
        "",
        "<details><summary>{} as of {}</summary><pre>{}</pre></details>",
        ((s.window, s.as_of, json.dumps(s.data, indent=2, default=str)[:6000]) for s in snapshots),
    )


def render_user_insights(user: User) -> SafeString:
    """A user's personas (current and history), signals for both windows, and uploads; for a
    user who consents (consent.selectors.visible_to_staff)."""
    if not visible_to_staff(User.objects.filter(pk=user.pk), user_field=None).exists():
        return format_html("<em>{}</em>", "hidden: this person has not consented")
    personas = PersonaAssignment.objects.filter(user=user).order_by("-assigned_at")[:20]
    uploads = DataUpload.objects.filter(user=user).order_by("-created_at")[:20]
    return format_html(
        "<h4>Personas</h4><ul>{}</ul><h4>Signals</h4>{}<h4>Uploads</h4><ul>{}</ul>",
        format_html_join(
            "",
            "<li>{} {}: <strong>{}</strong></li>",
            ((p.assigned_at.date(), p.window, p.persona or "none") for p in personas),
        )
        or format_html("<li>{}</li>", "none yet"),
        render_signals(user.pk),
        format_html_join(
            "",
            "<li>{} {} — {} ({} bytes)</li>",
            ((u.created_at.date(), u.file_name, u.status, u.file_size) for u in uploads),
        )
        or format_html("<li>{}</li>", "none"),
    )


class UserInsightsAdmin(ConsentScopedUserAdmin):
    """The console's user page: the account as accounts and consent show it, and below it
    the user's insights, which the console owns how to show."""

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return (*super().get_readonly_fields(request, obj), "insights")

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets  # the add form
        return (*fieldsets, ("Signals, personas and uploads", {"fields": ("insights",)}))

    @admin.display(description="insights")
    def insights(self, obj: User) -> SafeString:
        return render_user_insights(obj)


admin.site.unregister(User)
admin.site.register(User, UserInsightsAdmin)


class ReviewForm(forms.ModelForm):
    class Meta:
        model = Recommendation
        fields = ["title", "content", "rationale", "flagged"]


class PersonaFilter(admin.SimpleListFilter):
    title = "persona"
    parameter_name = "persona"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(p, p) for p in PRIORITY]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(persona=self.value()) if self.value() else queryset


@admin.register(Recommendation)
class RecommendationAdmin(ConsentingUsersAdmin):
    """The review queue: pending first; approve or reject (alone or in bulk), edit, flag."""

    form = ReviewForm
    change_form_template = "admin/operator_console/recommendation_change_form.html"
    list_display = ("title", "user_email", "persona", "type", "status", "flagged", "created_at")
    list_filter = (
        "status",
        PersonaFilter,
        "type",
        "flagged",
        ("created_at", admin.DateFieldListFilter),
    )
    search_fields = ("user__email", "title")
    ordering = ("status", "-created_at")
    list_select_related = ("user",)
    actions = ["approve_selected", "reject_selected", "flag_selected"]
    readonly_fields = (
        "user_email",
        "status",
        "type",
        "persona",
        "window",
        "disclaimer",
        "decision",
        "trace",
        "signals",
        "revisions",
    )
    fieldsets = (
        (None, {"fields": ("user_email", "status", "type", "persona", "window", "decision")}),
        (
            "Text (edits are kept as revisions)",
            {"fields": ("title", "content", "rationale", "disclaimer", "flagged")},
        ),
        ("Why", {"fields": ("trace",)}),
        ("The user's signals", {"fields": ("signals",)}),
        ("Revisions", {"fields": ("revisions",)}),
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="user", ordering="user__email")
    def user_email(self, obj: Recommendation) -> str:
        return obj.user.email or str(obj.user_id)

    @admin.display(description="decision")
    def decision(self, obj: Recommendation) -> str:
        if obj.status == "pending":
            return "awaiting review"
        reason = obj.decision_reason or "no reason given"
        return f"{obj.status} at {obj.decided_at:%Y-%m-%d %H:%M} — {reason}"

    @admin.display(description="decision trace")
    def trace(self, obj: Recommendation) -> SafeString:
        return render_trace(obj.decision_trace)

    @admin.display(description="signals")
    def signals(self, obj: Recommendation) -> SafeString:
        return render_signals(obj.user_id)

    @admin.display(description="revisions")
    def revisions(self, obj: Recommendation) -> SafeString:
        rows = RecommendationRevision.objects.filter(recommendation=obj)
        if not rows:
            return format_html("<em>{}</em>", "never edited")
        return format_html_join(
            "",
            "<p>r{} ({:%Y-%m-%d %H:%M}, {}): {}</p>",
            ((r.revision, r.edited_at, r.reason or "no reason", r.title) for r in rows),
        )

    def save_model(
        self, request: HttpRequest, obj: Recommendation, form: Any, change: bool
    ) -> None:
        # Edits and flags go through the services: revisions and the audit trail.
        current = Recommendation.objects.get(pk=obj.pk)
        actor = _actor(request)
        changes = {
            k: form.cleaned_data[k]
            for k in services.EDITABLE
            if form.cleaned_data[k] != getattr(current, k)
        }
        try:
            if changes:
                services.recommendation_edit(
                    recommendation=current, actor=actor, changes=changes, meta=request_meta(request)
                )
            if form.cleaned_data["flagged"] != current.flagged:
                services.recommendation_flag(
                    recommendation=current,
                    actor=actor,
                    flagged=form.cleaned_data["flagged"],
                    meta=request_meta(request),
                )
        except APIException as error:
            self.message_user(request, str(error.detail), messages.ERROR)

    def get_urls(self) -> list[Any]:
        urls: list[Any] = [
            path(
                "<uuid:pk>/decide/<str:decision>/",
                self.admin_site.admin_view(self.decide_view),
                name="recommendation_decide",
            ),
        ]
        return urls + super().get_urls()

    def decide_view(self, request: HttpRequest, pk: Any, decision: str) -> HttpResponse:
        if request.method != "POST" or decision not in services.DECISIONS:
            return HttpResponseRedirect(
                reverse("admin:recommendations_recommendation_change", args=[pk])
            )
        if not self.has_change_permission(request):
            return HttpResponse(status=403)
        recommendation = get_object_or_404(review_items(), pk=pk)
        actor = _actor(request)
        try:
            services.recommendation_decide(
                recommendation=recommendation,
                action=decision,
                actor=actor,
                reason=request.POST.get("reason", "")[:2000],
                meta=request_meta(request),
            )
            self.message_user(
                request, f"{decision.title()}d: {recommendation.title}", messages.SUCCESS
            )
        except APIException as error:
            self.message_user(request, str(error.detail), messages.ERROR)
        return HttpResponseRedirect(
            reverse("admin:recommendations_recommendation_changelist") + "?status__exact=pending"
        )

    def _bulk(
        self, request: HttpRequest, queryset: QuerySet[Recommendation], decision: str
    ) -> HttpResponse | None:
        if "confirm" not in request.POST:
            return TemplateResponse(
                request,
                "admin/operator_console/confirm_bulk.html",
                {
                    **self.admin_site.each_context(request),
                    "title": f"{decision.title()} {queryset.count()} recommendations?",
                    "decision": decision,
                    "items": queryset,
                    "action": request.POST.get("action"),
                    "opts": self.model._meta,
                },
            )
        actor = _actor(request)
        try:
            services.recommendations_bulk_decide(
                ids=list(queryset.values_list("pk", flat=True)),
                action=decision,
                actor=actor,
                reason=request.POST.get("reason", "")[:2000],
                meta=request_meta(request),
            )
            self.message_user(
                request,
                f"{decision.title()}d {queryset.count()} recommendations.",
                messages.SUCCESS,
            )
        except APIException as error:
            self.message_user(request, f"Nothing changed: {error.detail}", messages.ERROR)
        return None

    @admin.action(description="Approve selected (asks to confirm)")
    def approve_selected(
        self, request: HttpRequest, queryset: QuerySet[Recommendation]
    ) -> HttpResponse | None:
        return self._bulk(request, queryset, "approve")

    @admin.action(description="Reject selected (asks to confirm)")
    def reject_selected(
        self, request: HttpRequest, queryset: QuerySet[Recommendation]
    ) -> HttpResponse | None:
        return self._bulk(request, queryset, "reject")

    @admin.action(description="Flag selected for follow-up")
    def flag_selected(self, request: HttpRequest, queryset: QuerySet[Recommendation]) -> None:
        actor = _actor(request)
        for recommendation in queryset:
            services.recommendation_flag(
                recommendation=recommendation, actor=actor, flagged=True, meta=request_meta(request)
            )


@admin.register(PersonaAssignment)
class PersonaAssignmentAdmin(ConsentingUsersAdmin):
    list_display = ("user", "window", "persona", "as_of", "assigned_at")
    list_filter = ("window", "persona")
    search_fields = ("user__email",)
    readonly_fields = (
        "user",
        "window",
        "persona",
        "matched",
        "reason",
        "as_of",
        "assigned_at",
        "evaluations",
    )
    exclude = ()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(SignalSnapshot)
class SignalSnapshotAdmin(ConsentingUsersAdmin):
    list_display = ("user", "window", "as_of", "computed_at")
    list_filter = ("window",)
    search_fields = ("user__email",)
    readonly_fields = ("user", "window", "as_of", "computed_at", "pretty")
    exclude = ("data", "inputs")

    @admin.display(description="signals")
    def pretty(self, obj: SignalSnapshot) -> SafeString:
        return format_html("<pre>{}</pre>", json.dumps(obj.data, indent=2, default=str))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
