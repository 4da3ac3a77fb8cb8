"""A channel installed from its own distribution, through the ``hotline`` entry point,
delivers a case and receives its acknowledgement, with nothing in core changed for it."""

from __future__ import annotations

import asyncio
import importlib
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from hotline.core.foundation.settings import Settings
from hotline.core.shell.app import create_app
from hotline.core.shell.context import Kernel
from hotline.core.storage.enums import DeliveryStatus, Direction
from hotline.core.storage.models.cases import Case, Interaction
from tests.conftest import drain_jobs

FIXTURE = Path(__file__).parents[1] / "fixtures" / "kiosk_channel"
ROOT = Path(__file__).parents[2]


@pytest.fixture(scope="module")
def installed_kiosk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    target = tmp_path_factory.mktemp("site-packages")
    source = tmp_path_factory.mktemp("src") / "kiosk_channel"
    shutil.copytree(FIXTURE, source)  # building writes next to the sources
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--disable-pip-version-check",
            "--target",
            str(target),
            str(source),
        ],
        check=True,
        capture_output=True,
        cwd=tmp_path_factory.getbasetemp(),
    )
    sys.path.insert(0, str(target))
    importlib.invalidate_caches()
    yield target
    sys.path.remove(str(target))
    sys.modules.pop("hotline_kiosk", None)


def test_kiosk_channel_delivers_a_case_through_the_entry_point(
    installed_kiosk: Path, settings: Settings
) -> None:
    settings.max_request_bytes = 64 * 1024
    kernel = Kernel(settings)
    assert "kiosk" in {name for name, _ in kernel.pm.list_name_plugin()}
    kiosk = importlib.import_module("hotline_kiosk")
    kiosk.SENT.clear()
    with TestClient(create_app(settings, kernel)) as client:
        body = {"id": "k-1", "text": "路灯不亮", "phone": "13800138000"}
        first = client.post("/kiosk/inbound", json=body).json()
        again = client.post("/kiosk/inbound", json=body).json()
        assert again == {"tracking_number": first["tracking_number"], "duplicate": True}
        refused = client.post("/kiosk/inbound", json={"id": "k-2", "text": "", "phone": "12"})
        assert refused.status_code == 422
        assert {p["code"] for p in refused.json()["problems"]} == {"empty", "invalid_phone"}
        huge = client.post(
            "/kiosk/inbound", json={"id": "k-3", "text": "长" * (settings.max_request_bytes // 2)}
        )
        assert huge.status_code == 413  # refused before it is read whole

        async def check() -> tuple[str, str | None]:
            ctx = client.app.state.ctx
            while await asyncio.to_thread(drain_jobs, ctx.jobs):
                pass
            async with ctx.db.session() as s:
                case = await s.scalar(
                    select(Case).where(Case.tracking_number == first["tracking_number"])
                )
                out = await s.scalar(
                    select(Interaction).where(Interaction.direction == Direction.OUT)
                )
            return case.first_channel, out.delivery_status if out else None

        channel, status = client.blocking_portal.call(check)
    assert (channel, status) == ("kiosk", DeliveryStatus.SENT)
    assert [m.tracking_number for m in kiosk.SENT] == [first["tracking_number"]]


def test_core_does_not_know_the_kiosk() -> None:
    for path in (ROOT / "core").rglob("*.py"):
        assert "kiosk" not in path.read_text(), path
