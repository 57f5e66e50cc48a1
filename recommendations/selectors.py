"""Reads of the engine's inputs and outputs."""

from __future__ import annotations

import hashlib
import time
import uuid
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Max, QuerySet

from accounts.models import User
from recommendations.engine.choose import CatalogItem
from recommendations.engine.data import AccountData, LiabilityData, TransactionData, UserData
from recommendations.models import (
    EducationItem,
    PartnerOffer,
    PersonaAssignment,
    Recommendation,
    RecommendationStatus,
    SignalSnapshot,
    Window,
)
from spendsense.batch import PerKey, Rows, Statement, run
from uploads.models import Account, Liability, Transaction

# The three reads of the engine's inputs (accounts, transactions, liabilities: the columns the
# engine reads, as tuples), compiled once per process: between users only the id changes.
_USER_DATA = [
    PerKey(
        lambda user_id: Account.objects.filter(user_id=user_id).values_list(
            "account_id",
            "type",
            "subtype",
            "name",
            "mask",
            "current",
            "available",
            "limit",
            "iso_currency_code",
            "unofficial_currency_code",
        ),
        User._meta.pk,
    ),
    PerKey(
        lambda user_id: Transaction.objects.filter(user_id=user_id).values_list(
            "transaction_id",
            "account_id",
            "date",
            "amount",
            "merchant_name",
            "name",
            "pfc_primary",
            "pfc_detailed",
            "pending",
            "iso_currency_code",
            "unofficial_currency_code",
            "category_source",
        ),
        User._meta.pk,
    ),
    PerKey(
        lambda user_id: Liability.objects.filter(user_id=user_id).values_list(
            "account_id",
            "kind",
            "is_overdue",
            "minimum_payment_amount",
            "last_payment_amount",
            "details",
            "interest_rate_percentage",
        ),
        User._meta.pk,
    ),
]


def _user_data(accounts: Rows, transactions: Rows, liabilities: Rows) -> UserData:
    """The engine's plain data from the rows of ``_USER_DATA``."""
    liability_data = []
    for account_id, kind, overdue, minimum, last, details, rate in liabilities:
        aprs = details.get("aprs", []) if isinstance(details, dict) else []
        interest = sum(
            (Decimal(a["interest_charge_amount"]) for a in aprs if a.get("interest_charge_amount")),
            Decimal(0),
        )
        liability_data.append(
            LiabilityData(
                account_id=account_id,
                kind=kind,
                is_overdue=overdue,
                minimum_payment_amount=minimum,
                last_payment_amount=last,
                interest_charged=interest,
                interest_rate_percentage=rate,
            )
        )
    return UserData(
        accounts=[
            AccountData(
                account_id, type_, subtype, name, mask, current, available, limit,
                iso or unofficial or "USD",
            )
            for (
                account_id, type_, subtype, name, mask, current, available, limit, iso,
                unofficial,
            ) in accounts
        ],
        # Positional (the fields' order): this runs for every transaction of every recompute.
        transactions=[
            TransactionData(
                tx_id, account, day, amount, merchant or name, primary, detailed, pending,
                iso or unofficial or "USD", source,
            )
            for (
                tx_id, account, day, amount, merchant, name, primary, detailed, pending, iso,
                unofficial, source,
            ) in transactions
        ],
        liabilities=liability_data,
    )  # fmt: skip


def recompute_load(*, user_id: uuid.UUID) -> tuple[Rows, UserData]:
    """What a recompute reads before it computes, in one round trip on PostgreSQL: what is
    stored (``stored_state_query``'s rows) and the user's data, as plain data: accounts,
    transactions and liabilities, of the columns the engine reads and no model instances."""
    stored, *data = run([stored_state_query(user_id=user_id), *(q(user_id) for q in _USER_DATA)])
    return stored, _user_data(*data)


def _stored_state_sql() -> str:
    q = connection.ops.quote_name
    user, snapshot, persona, recommendation = (
        q(model._meta.db_table)
        for model in (User, SignalSnapshot, PersonaAssignment, Recommendation)
    )
    window, text = q("window"), "CAST(NULL AS TEXT)"
    # Only table and column names are formatted in, from the models; the user id is a parameter.
    return f"""
        SELECT 'u', CAST(consent_status AS TEXT), {text}, {text}, {text}, {text}, {text}
        FROM {user} WHERE id = %s
        UNION ALL
        SELECT 's', {window}, CAST(as_of AS TEXT), CAST(data AS TEXT), CAST(inputs AS TEXT),
            NULL, NULL
        FROM {snapshot} WHERE user_id = %s
        UNION ALL
        SELECT 'p', p.{window}, p.persona, NULL, NULL, NULL, NULL
        FROM {persona} p WHERE p.user_id = %s AND NOT EXISTS (
            SELECT 1 FROM {persona} later
            WHERE later.user_id = p.user_id AND later.{window} = p.{window}
                AND (later.assigned_at > p.assigned_at
                    OR (later.assigned_at = p.assigned_at AND later.id > p.id)))
        UNION ALL
        SELECT 'r', CAST(id AS TEXT), slug, status, digest, CAST(revision AS TEXT),
            CAST(flagged AS TEXT)
        FROM {recommendation} WHERE user_id = %s
    """  # noqa: S608


def stored_state_query(*, user_id: uuid.UUID) -> Statement:
    """One query of what a recompute compares its results with: the user's consent status
    (``u``), their snapshots (``s``: window, as_of, data, inputs), the latest persona of each
    window (``p``: window, persona) and every recommendation without its texts (``r``: id,
    slug, status, digest, revision, flagged), each row led by its kind and every value as
    text (one UNION: four queries' round trips and compilations were a third of a
    recompute that writes nothing)."""
    param = User._meta.pk.get_db_prep_value(user_id, connection)
    return Statement(_stored_state_sql(), [param] * 4)


_catalog_memo: dict[str, Any] = {}
CATALOG_MEMO_SECONDS = 30.0


def catalog_load() -> tuple[list[CatalogItem], str]:
    """The active catalog, memoised per process for a few seconds (an engine run over many
    users reads it once); an edit in the console clears it through ``catalog_changed``."""
    now = time.monotonic()
    if _catalog_memo and now - _catalog_memo["at"] < CATALOG_MEMO_SECONDS:
        return _catalog_memo["items"], _catalog_memo["version"]
    items, version = _catalog_read()
    _catalog_memo.update(at=now, items=items, version=version)
    return items, version


def catalog_changed() -> None:
    _catalog_memo.clear()


def _catalog_item(entry: Any, kind: str, **extra: Any) -> CatalogItem:
    return CatalogItem(
        slug=entry.slug,
        kind=kind,
        title=entry.title,
        content=entry.content,
        rationale_template=entry.rationale_template,
        personas=tuple(entry.personas or ()),
        tags=tuple(entry.tags or ()),
        requires=tuple(entry.requires or ()),
        priority=entry.priority,
        **extra,
    )


def _catalog_read() -> tuple[list[CatalogItem], str]:
    """The active catalog as plain items, and a version that changes with any edit."""
    items = [
        _catalog_item(entry, "education")
        for entry in EducationItem.objects.filter(active=True).order_by("slug")
    ]
    items += [
        _catalog_item(
            offer,
            "partner_offer",
            product_type=offer.product_type,
            partner=offer.partner,
            eligibility=dict(offer.eligibility or {}),
            predatory=offer.predatory,
        )
        for offer in PartnerOffer.objects.filter(active=True).order_by("slug")
    ]
    stamps = [
        EducationItem.objects.aggregate(m=Max("updated_at"))["m"],
        PartnerOffer.objects.aggregate(m=Max("updated_at"))["m"],
        len(items),
    ]
    version = hashlib.sha256(repr(stamps).encode()).hexdigest()[:12]
    return items, version


def signals_get(*, user_id: uuid.UUID) -> dict[str, Any]:
    """``{"as_of", "windows": {...}}`` from the stored snapshots (as_of null before data)."""
    snapshots = {s.window: s for s in SignalSnapshot.objects.filter(user_id=user_id)}
    if not snapshots:
        return {"as_of": None, "windows": {}}
    as_of = max(s.as_of for s in snapshots.values())
    return {
        "as_of": as_of.isoformat(),
        "windows": {w: snapshots[w].data for w in Window.values if w in snapshots},
    }


def persona_get(*, user_id: uuid.UUID) -> dict[str, Any]:
    history = list(
        PersonaAssignment.objects.filter(user_id=user_id).order_by("-assigned_at", "-id")[:100]
    )
    current: dict[str, Any] = {}
    for row in history:
        if row.window not in current:
            current[row.window] = {
                "persona": row.persona,
                "matched": row.matched,
                "reason": row.reason,
                "assigned_at": row.assigned_at.isoformat(),
            }
    as_of = max((row.as_of for row in history), default=None)
    return {
        "as_of": as_of.isoformat() if as_of else None,
        "current": {w: current[w] for w in Window.values if w in current},
        "history": [
            {
                "window": row.window,
                "persona": row.persona,
                "assigned_at": row.assigned_at.isoformat(),
            }
            for row in history
        ],
    }


def recommendation_statuses(*, operator: bool, wanted: str | None) -> list[str]:
    """The statuses a recommendations read lists: people see what a reviewer approved and
    nothing else; operators see the status they asked for, or every status."""
    if not operator:
        return [RecommendationStatus.APPROVED]
    return [wanted] if wanted else list(RecommendationStatus.values)


def recommendations_for(*, user_id: uuid.UUID, statuses: list[str]) -> QuerySet[Recommendation]:
    return Recommendation.objects.filter(user_id=user_id, status__in=statuses).order_by(
        "type", "-score", "created_at"
    )
