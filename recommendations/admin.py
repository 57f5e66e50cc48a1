"""The content catalog in the console, validated so nothing unsayable reaches a user."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from recommendations.engine.choose import (
    KNOWN_TAGS,
    RATIONALE_FIELDS,
    template_fields,
    tone_problems,
)
from recommendations.engine.personas import PRIORITY
from recommendations.models import EducationItem, PartnerOffer
from recommendations.selectors import catalog_changed


class CatalogForm(forms.ModelForm):
    """Templates may cite only known figures; text must pass the tone check; personas and tags
    must exist."""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        template = data.get("rationale_template") or ""
        try:
            unknown = template_fields(template) - RATIONALE_FIELDS
        except ValueError as error:
            self.add_error("rationale_template", f"Not a valid template: {error}")
            unknown = set()
        if unknown:
            self.add_error(
                "rationale_template",
                f"Unknown figures {sorted(unknown)}; "
                f"available: {', '.join(sorted(RATIONALE_FIELDS))}.",
            )
        for name in ("title", "content", "rationale_template"):
            problems = tone_problems(str(data.get(name) or ""))
            if problems:
                self.add_error(
                    name, f"Tone: remove {', '.join(problems)} (neutral, never shaming)."
                )
        for name, allowed in (
            ("personas", set(PRIORITY)),
            ("tags", KNOWN_TAGS),
            ("requires", KNOWN_TAGS),
        ):
            values = data.get(name) or []
            if not isinstance(values, list) or set(values) - allowed:
                self.add_error(name, f"A list drawn from: {', '.join(sorted(allowed))}.")
        return data


class CatalogAdmin(admin.ModelAdmin):
    form = CatalogForm
    search_fields = ("title", "slug", "content")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        catalog_changed()


@admin.register(EducationItem)
class EducationItemAdmin(CatalogAdmin):
    """Articles and guides recommended by relevance to a user's signals."""

    list_display = ("title", "slug", "priority", "active", "updated_at")
    list_filter = ("active",)


@admin.register(PartnerOffer)
class PartnerOfferAdmin(CatalogAdmin):
    """Partner products, offered only to eligible users; predatory ones never."""

    list_display = ("title", "partner", "product_type", "predatory", "active", "updated_at")
    list_filter = ("active", "predatory", "product_type")
