"""Property: every body Plaid's response schemas allow, keeping the rules Plaid states in
prose, is accepted, processed (the engine included), and a second upload of it changes
nothing.

Bodies are drawn by hypothesis-jsonschema from the schemas in
``uploads/tests/fixtures/plaid_schemas`` (verbatim copies of ``shared/plaid/schemas``), then
Plaid's prose rules are applied:

- each transaction's and liability's ``account_id`` names an account of the body, of the
  kind Plaid lists it under (credit cards for ``credit``, loans for ``mortgage`` and
  ``student``), one liability per account and kind;
- exactly one currency code, an ISO one being three capital letters;
- ids unique (and non-empty), a subtype from its type's list;
- an extra property never takes the name of another response's data list (``liabilities``
  in an /accounts/get body): an upload may merge responses, so those names are data.

Two bounds are ours, not Plaid's, and each is tested on its own in test_plaid_contract.py:
numbers stay inside the columns' capacity (|x| < 10^14; beyond is a located 400), and ids
inside 255 characters (their unique index). Examples: ``PLAID_PROPERTY_EXAMPLES`` (20 by
default, so the suite stays fast; run it with 2000 or more before changing the validator).
"""

from __future__ import annotations

import copy
import json
import os
from functools import cache
from http import HTTPStatus
from pathlib import Path
from typing import Any

import hypothesis_jsonschema._from_schema as jsonschema_strategies
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.internal.conjecture import utils as conjecture_utils
from hypothesis_jsonschema import from_schema

from recommendations.models import SignalSnapshot
from tests.support.clients import UPLOAD, sign_in, upload
from tests.support.consent import grant_consent
from tests.support.factories.accounts import UserFactory
from uploads import plaid
from uploads.models import DataUpload, Transaction
from uploads.validation import JSON_KEYS

pytestmark = pytest.mark.django_db


class _Many:
    """``cu.many`` as hypothesis-jsonschema 0.23.1 (its latest release) drives it, with
    ``more()`` and ``reject()``, on top of hypothesis 6.170's ``many``, which is iterated
    inside a ``with`` block instead. Only its object strategy uses it; nothing else changes."""

    def __init__(self, data: Any, **sizes: Any) -> None:
        self._many = conjecture_utils.many(data, **sizes)
        self._many.__enter__()
        self._elements = iter(self._many)

    def more(self) -> bool:
        if next(self._elements, None) is None and self._many._done:
            self._many.__exit__(None)
            return False
        return True

    def reject(self, why: str | None = None) -> None:
        self._many.reject(why)


class _ConjectureUtils:
    """hypothesis' conjecture utilities, with ``many`` as hypothesis-jsonschema expects it."""

    many = _Many

    def __getattr__(self, name: str) -> Any:
        return getattr(conjecture_utils, name)


if not hasattr(conjecture_utils.many, "more"):
    jsonschema_strategies.cu = _ConjectureUtils()  # type: ignore[assignment]

SCHEMAS = Path(__file__).parents[1] / "uploads" / "tests" / "fixtures" / "plaid_schemas"
EXAMPLES = int(os.environ.get("PLAID_PROPERTY_EXAMPLES", "20"))
NUMBER_BOUND = 10**14 - 1
ID_BOUND = 240  # leaves room for the suffix that makes ids unique, within 255


def _bounded(schema: Any) -> Any:
    """The schema with numbers inside the columns' capacity and ids inside 255 characters."""
    if isinstance(schema, dict):
        bounded = {key: _bounded(value) for key, value in schema.items()}
        types = schema.get("type")
        type_list = types if isinstance(types, list) else [types]
        if "number" in type_list:
            bounded.update(minimum=-NUMBER_BOUND, maximum=NUMBER_BOUND)
        properties = bounded.get("properties", {})
        for name in ("account_id", "transaction_id"):
            if name in properties and "string" in str(properties[name].get("type")):
                properties[name]["maxLength"] = ID_BOUND
        return bounded
    if isinstance(schema, list):
        return [_bounded(item) for item in schema]
    return schema


@cache
def schema(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SCHEMAS / f"{name}.json").read_text())
    bounded: dict[str, Any] = _bounded(loaded)
    return bounded


_strategies: dict[str, st.SearchStrategy[Any]] = {}


def strategy(part: dict[str, Any]) -> st.SearchStrategy[Any]:
    """``from_schema(part)``, built once per schema: building one canonicalises the whole
    schema, which costs far more than drawing from it."""
    key = json.dumps(part, sort_keys=True)
    if key not in _strategies:
        _strategies[key] = from_schema(part)
    return _strategies[key]


def account_schema() -> dict[str, Any]:
    item: dict[str, Any] = schema("AccountsGetResponse")["properties"]["accounts"]["items"]
    return item


ISO = st.from_regex(r"\A[A-Z]{3}\Z")
NON_EMPTY = st.text(min_size=1).filter(lambda text: text.replace("\x00", ""))


def _currency(holder: dict[str, Any], draw: Any) -> None:
    """Exactly one currency code: an ISO code, or a non-empty unofficial one."""
    if draw(st.booleans()):
        holder["iso_currency_code"] = draw(ISO)
        holder["unofficial_currency_code"] = None
    else:
        holder["iso_currency_code"] = None
        unofficial = holder.get("unofficial_currency_code")
        if not isinstance(unofficial, str) or not unofficial.replace("\x00", ""):
            unofficial = draw(NON_EMPTY)
        holder["unofficial_currency_code"] = unofficial


def _fix_account(account: dict[str, Any], index: int, draw: Any) -> None:
    account["account_id"] = f"{account['account_id']}~a{index}"
    valid = plaid.account_subtypes()[account["type"]]
    if account["subtype"] is not None and account["subtype"] not in valid:
        account["subtype"] = draw(st.sampled_from([None, *sorted(valid)]))
    _currency(account["balances"], draw)


def _new_account(draw: Any, accounts: list[dict[str, Any]], kind: str, subtype: str) -> str:
    account = draw(strategy(account_schema()))
    account.update(type=kind, subtype=subtype)
    _fix_account(account, len(accounts), draw)
    accounts.append(account)
    return str(account["account_id"])


def _enrich(body: dict[str, Any], response: dict[str, Any], draw: Any) -> None:
    """More of what the schema allows than a plain draw gives: hypothesis-jsonschema keeps
    lists short and leaves optional properties out most of the time, so a few more items are
    drawn from each list's own item schema, and an optional category object is drawn for
    about half the transactions. Every addition is itself valid, so the body stays valid."""
    properties = response["properties"]
    lists = [
        (body, key, properties[key])
        for key in ("accounts", *_TRANSACTION_LISTS, "removed")
        if key in properties
    ]
    if isinstance(body.get("liabilities"), dict):
        nested = properties["liabilities"]["properties"]
        lists += [(body["liabilities"], kind, nested[kind]) for kind in _LIABILITY_KINDS]
    for holder, key, list_schema in lists:
        item_schema = list_schema["items"]
        least = 1 if key in _TRANSACTION_LISTS else 0
        extra = draw(st.lists(strategy(item_schema), min_size=least, max_size=3))
        if holder.get(key) is None:
            if "null" in str(list_schema.get("type")) and not extra:
                continue
            holder[key] = []
        holder[key].extend(extra)
    for key in _TRANSACTION_LISTS:
        if key not in properties:
            continue
        category = dict(properties[key]["items"]["properties"]["personal_finance_category"])
        category["type"] = "object"
        for item in body.get(key) or []:
            if draw(st.sampled_from([True, False])):  # True first: shrinking keeps categories
                item["personal_finance_category"] = draw(strategy(category))


_TRANSACTION_LISTS = ("transactions", "added", "modified")
_LIABILITY_KINDS = ("credit", "mortgage", "student")


@st.composite
def plaid_bodies(draw: Any) -> dict[str, Any]:
    """A body valid under one of Plaid's response schemas, with Plaid's prose rules kept."""
    name = draw(
        st.sampled_from(
            [
                "TransactionsGetResponse",
                "TransactionsSyncResponse",
                "LiabilitiesGetResponse",
                "AccountsGetResponse",
            ]
        )
    )
    body: dict[str, Any] = copy.deepcopy(draw(strategy(schema(name))))
    # An upload may merge several responses, so the names of their data lists are data: an
    # extra property of one response never reuses the name of another's (Plaid's don't).
    for key in set(JSON_KEYS) - set(schema(name)["properties"]):
        body.pop(key, None)
    _enrich(body, schema(name), draw)
    accounts: list[dict[str, Any]] = body["accounts"]
    for index, account in enumerate(accounts):
        _fix_account(account, index, draw)

    number = 0
    for key in ("transactions", "added", "modified"):
        for item in body.get(key) or []:
            if not accounts:
                _new_account(draw, accounts, "depository", "checking")
            item["account_id"] = draw(st.sampled_from([a["account_id"] for a in accounts]))
            item["transaction_id"] = f"{item['transaction_id']}~t{number}"
            number += 1
            _currency(item, draw)
    for index, item in enumerate(body.get("removed") or []):
        item["transaction_id"] = f"{item['transaction_id']}~r{index}"

    liabilities = body.get("liabilities") or {}
    for kind, account_type, subtype, nullable in (
        ("credit", "credit", "credit card", True),
        ("mortgage", "loan", "mortgage", False),
        ("student", "loan", "student", True),
    ):
        used: set[str] = set()
        for item in liabilities.get(kind) or []:
            free = [
                a["account_id"]
                for a in accounts
                if a["type"] == account_type and a["account_id"] not in used
            ]
            if item["account_id"] is None and nullable:
                continue
            if free:
                item["account_id"] = draw(st.sampled_from(free))
            elif nullable and draw(st.booleans()):
                item["account_id"] = None
                continue
            else:
                item["account_id"] = _new_account(draw, accounts, account_type, subtype)
            used.add(item["account_id"])
    return body


def _upload_once(client: Any, content: bytes) -> dict[str, Any]:
    response = upload(client, content)
    assert response.status_code == HTTPStatus.ACCEPTED, response.content[:2000]
    result: dict[str, Any] = client.get(f"{UPLOAD}/{response.json()['upload_id']}").json()
    return result


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
        # Bodies past hypothesis' draw budget are dropped and drawn again; it counts them as
        # filtered. They cost time, not coverage.
        HealthCheck.filter_too_much,
    ],
)
@given(body=plaid_bodies())
def test_what_plaid_may_send_is_accepted_processed_and_idempotent(body: dict[str, Any]) -> None:
    signed = sign_in(grant_consent(UserFactory.create()))
    content = json.dumps(body).encode()

    first = _upload_once(signed.client, content)
    second = _upload_once(signed.client, content)

    assert first["status"] == "processed", first
    assert second["status"] == "processed", second
    changed = {
        kind: {name: count for name, count in figures.items() if name != "without_account"}
        for kind, figures in second["counts"].items()
    }
    assert changed == {
        kind: {"created": 0, "updated": 0, "removed": 0}
        for kind in ("accounts", "transactions", "liabilities")
    }
    assert DataUpload.objects.filter(user=signed.user, status="processed").count() == 2
    # Processing includes the engine: with a posted transaction there are signals per window.
    posted = Transaction.objects.filter(user=signed.user, pending=False).exists()
    assert SignalSnapshot.objects.filter(user=signed.user).count() == (2 if posted else 0)
