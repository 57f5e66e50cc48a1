"""The benchmark command runs end to end (at a small size) and prints its figures."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command

from uploads.models import DataUpload


@pytest.mark.django_db
def test_bench_upload_prints_figures_and_cleans_up() -> None:
    out = StringIO()

    call_command("bench_upload", "--size-mb", "0.05", stdout=out)

    lines = out.getvalue().splitlines()
    assert re.match(r"json: 0\.0 MB, \d+ transactions \| validate [\d.]+ s", lines[1])
    assert re.match(r"csv: 0\.0 MB, \d+ transactions \| validate [\d.]+ s", lines[2])
    assert "(processed," in lines[1]
    assert "(processed," in lines[2]
    assert not DataUpload.objects.exists()
