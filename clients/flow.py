"""The main flow, run through the Python client that openapi-python-client generated from the
live schema: register, grant consent, upload a Plaid body, poll the upload, read the profile,
signals, persona and recommendations. Also checks that every operation of the schema became a
function of the client (a generator drops what it cannot model).

    python clients/flow.py BASE_URL SCHEMA_JSON GENERATED_DIR PLAID_JSON

Run by .ci/client-check in the client tools' venv; any failure exits non-zero.
"""

from __future__ import annotations

import json
import secrets
import sys
import time
import uuid
from io import BytesIO
from pathlib import Path
from typing import Any

from openapi_python_client.strings import snake_case


def main(base_url: str, schema_path: Path, generated: Path, plaid_path: Path) -> None:
    sys.path.insert(0, str(generated))
    from spendsense_client import AuthenticatedClient, Client
    from spendsense_client.api.auth import register
    from spendsense_client.api.consent import grant_consent
    from spendsense_client.api.insights import (
        get_persona,
        get_profile,
        get_signals,
        list_user_recommendations,
    )
    from spendsense_client.api.uploads import create_upload, get_upload
    from spendsense_client.api.users import get_me
    from spendsense_client.models import (
        Consent,
        ConsentGrantRequest,
        Me,
        Persona,
        Profile,
        RecommendationPage,
        RegisterRequest,
        RegisterResponse,
        Signals,
        Upload,
        UploadAccepted,
        UploadRequest,
        UploadStatusEnum,
    )
    from spendsense_client.types import File

    every_operation_is_generated(schema_path, generated / "spendsense_client" / "api")

    # An undocumented status raises (UnexpectedStatus) instead of passing as None.
    anonymous = Client(base_url=base_url, raise_on_unexpected_status=True)
    email = f"client-check-{uuid.uuid4().hex[:12]}@example.com"
    registered = expect(
        "register",
        register.sync_detailed(
            client=anonymous,
            body=RegisterRequest(email=email, password=secrets.token_urlsafe(18)),
        ),
        201,
        RegisterResponse,
    )
    client = AuthenticatedClient(
        base_url=base_url, token=registered.access, raise_on_unexpected_status=True
    )
    me = expect("getMe", get_me.sync_detailed(client=client), 200, Me)
    check(me.email == email, me)

    consent = expect(
        "grantConsent",
        grant_consent.sync_detailed(client=client, body=ConsentGrantRequest()),
        201,
        Consent,
    )
    check(consent.granted, consent)

    body = UploadRequest(
        file=File(
            payload=BytesIO(plaid_path.read_bytes()),
            file_name=plaid_path.name,
            mime_type="application/json",
        )
    )
    accepted = expect(
        "createUpload", create_upload.sync_detailed(client=client, body=body), 202, UploadAccepted
    )
    upload = poll_upload(client, get_upload, accepted.upload_id, Upload, UploadStatusEnum)
    check(upload.status == UploadStatusEnum.PROCESSED, upload.to_dict())

    profile = expect("getProfile", get_profile.sync_detailed("me", client=client), 200, Profile)
    check(profile.user_id == me.id and bool(profile.accounts), profile.to_dict())
    signals = expect("getSignals", get_signals.sync_detailed("me", client=client), 200, Signals)
    check(signals.as_of is not None, signals.to_dict())
    persona = expect("getPersona", get_persona.sync_detailed("me", client=client), 200, Persona)
    recommendations = expect(
        "listUserRecommendations",
        list_user_recommendations.sync_detailed("me", client=client),
        200,
        RecommendationPage,
    )
    print(
        f"flow ok: user {me.id}, upload {upload.upload_id} {upload.status.value}, "
        f"{len(profile.accounts)} accounts, {profile.transaction_count} transactions, "
        f"signals as of {signals.as_of}, personas {sorted(persona.current.additional_keys)}, "
        f"{recommendations.count} recommendations visible to the user"
    )


def every_operation_is_generated(schema_path: Path, api_dir: Path) -> None:
    schema = json.loads(schema_path.read_text())
    wanted = {
        snake_case(operation["operationId"])
        for item in schema["paths"].values()
        for method, operation in item.items()
        if method in {"get", "put", "post", "delete", "patch"}
    }
    generated = {p.stem for p in api_dir.glob("*/*.py") if p.stem != "__init__"}
    missing = sorted(wanted - generated)
    if missing:
        sys.exit(f"operations missing from the generated client: {missing}")
    print(f"all {len(wanted)} operations are in the generated client")


def expect(name: str, response: Any, status: int, model: type) -> Any:
    if response.status_code != status or not isinstance(response.parsed, model):
        sys.exit(
            f"{name}: expected {status} {model.__name__}, got {response.status_code}: "
            f"{response.content[:500]!r}"
        )
    print(f"{name}: {status}")
    return response.parsed


def check(condition: bool, context: Any) -> None:
    if not condition:
        sys.exit(f"unexpected: {context}")


def poll_upload(client: Any, get_upload: Any, upload_id: Any, model: type, status: Any) -> Any:
    finished = {status.PROCESSED, status.FAILED, status.REJECTED}
    for _ in range(120):
        upload = expect("getUpload", get_upload.sync_detailed(upload_id, client=client), 200, model)
        if upload.status in finished:
            return upload
        time.sleep(0.5)
    sys.exit(f"upload {upload_id} still {upload.status} after 60 s")


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]))
