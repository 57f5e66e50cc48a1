"""The console's admin site: branding, the index shortcuts and the analytics page.

Kept apart from ``admin.py`` (which registers models on the default site): the default site
is built from this class lazily, and a module that both defines it and registers on it would
register on a half-built site.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from operator_console import analytics, charts, signin
from spendsense.db import may_read_replica, replica_reads


class OperatorAdminSite(admin.AdminSite):
    site_header = "SpendSense operator console"
    site_title = "SpendSense console"
    index_title = "Review, users and analytics"
    index_template = "admin/operator_console/index.html"

    def get_urls(self) -> list[Any]:
        extra: list[URLPattern] = [
            path("analytics/", self.admin_view(self.analytics_view), name="analytics"),
            path("mfa/", self.mfa_view, name="console_mfa"),
            path("mfa/enrol/", self.admin_view(self.enrol_view), name="console_mfa_enrol"),
        ]
        return extra + super().get_urls()

    # --- the door (operator_console/signin.py) -------------------------------------------

    def has_permission(self, request: HttpRequest) -> bool:
        """Staff, and the second factor given if they have one: with the password alone a
        staff user with MFA reaches no console page."""
        return super().has_permission(request) and signin.second_factor_given(request)

    def admin_view(self, view: Callable[..., Any], cacheable: bool = False) -> Any:
        """Django's check, then: staff who must enrol a second factor see that page first."""
        checked = super().admin_view(view, cacheable)
        exempt = {"enrol_view", "logout"}

        @wraps(view)
        def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if (
                getattr(view, "__name__", "") not in exempt
                and self.has_permission(request)
                and signin.must_enrol(request)
            ):
                return HttpResponseRedirect(reverse("admin:console_mfa_enrol"))
            return checked(request, *args, **kwargs)

        return inner

    @method_decorator(never_cache)
    @method_decorator(csrf_protect)
    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        """Django's admin login, with signin's form and view: counted, audited, and the code
        step for staff with a second factor."""
        if request.method == "GET" and self.has_permission(request):
            return HttpResponseRedirect(reverse("admin:index", current_app=self.name))
        context = {
            **self.each_context(request),
            "title": "Log in",
            "subtitle": None,
            "app_path": request.get_full_path(),
            "username": request.user.get_username(),
        }
        if REDIRECT_FIELD_NAME not in request.GET and REDIRECT_FIELD_NAME not in request.POST:
            context[REDIRECT_FIELD_NAME] = reverse("admin:index", current_app=self.name)
        context.update(extra_context or {})
        request.current_app = self.name
        return signin.ConsoleLoginView.as_view(extra_context=context)(request)

    @method_decorator(never_cache)
    @method_decorator(csrf_protect)
    def mfa_view(self, request: HttpRequest) -> HttpResponse:
        return signin.mfa_step_view(request, self.each_context(request))

    def enrol_view(self, request: HttpRequest) -> HttpResponse:
        return signin.enrol_view(request, self.each_context(request))

    def each_context(self, request: HttpRequest) -> dict[str, Any]:
        context = super().each_context(request)
        context["analytics_url"] = reverse("admin:analytics")
        return context

    def analytics_view(self, request: HttpRequest) -> HttpResponse:
        today = timezone.now().date()
        form = RangeForm(
            request.GET or None, initial={"start": today - timedelta(days=29), "end": today}
        )
        start, end = today - timedelta(days=29), today
        if form.is_valid():
            start = form.cleaned_data.get("start") or start
            end = form.cleaned_data.get("end") or end
        with replica_reads(may_read_replica(request.user.pk)):
            data = analytics.overview(start, end)
        coverage = data["coverage"]
        perf = data["performance"]
        fairness = data["fairness"]
        chart_list = [
            charts.stacked_columns(
                "Persona mix over time (30-day window, by week)", data["persona_mix_over_time"]
            ),
            charts.bar_chart(
                "Current persona mix (users)",
                [(k, float(v)) for k, v in coverage["persona_mix"].items()],
            ),
            charts.bar_chart(
                "Quality",
                [
                    ("coverage", coverage["coverage"]),
                    ("explainability", data["explainability"]),
                    ("auditability", data["auditability"]),
                    ("approval rate", data["approval_rate"]),
                    ("rejection rate", data["rejection_rate"]),
                    ("helpful feedback", data["engagement"]["helpful_share"]),
                    ("cache hit rate", perf["cache"]["hit_rate"]),
                ],
                percent=True,
            ),
            charts.bar_chart(
                "Processing latency (ms)",
                [
                    ("p50", perf["latency_ms"]["p50"]),
                    ("p95", perf["latency_ms"]["p95"]),
                    ("max", perf["latency_ms"]["max"]),
                ],
            ),
            charts.bar_chart(
                f"Offer rate by age band (parity {fairness['offer_rate_parity']})",
                [(band, group["offer_rate"]) for band, group in fairness["groups"].items()],
                percent=True,
            ),
        ]
        context = {
            **self.each_context(request),
            "title": "Analytics",
            "form": form,
            "data": data,
            "charts": chart_list,
            "raw": json.dumps(data, indent=2, default=str),
        }
        return TemplateResponse(request, "admin/operator_console/analytics.html", context)


class RangeForm(forms.Form):
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise forms.ValidationError("The start must not be after the end.")
        return data
