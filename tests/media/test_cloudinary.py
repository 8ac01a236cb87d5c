"""Attachments on Cloudinary (django-cloudinary-storage), against a fake on 127.0.0.1.

The storage is configured as production configures it, from the environment, with
the SDK's own options pointing both its API calls (``upload_prefix``) and its delivery
URLs (``cname``, ``secure=false``) at the fake. Nothing in the SDK or the package is
patched.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import cloudinary
import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.utils import timezone
from PIL import Image

from chat import services
from chat.models import Attachment, Thread
from chat.uploads import clean_upload
from chatsite.storage import cloudinary_config_from_env, cloudinary_storage_settings
from tests.media.fake_cloudinary import FakeCloudinary

RAW_STORAGE = "chatsite.media.RawCloudinaryStorage"
BASE_DIR = Path(__file__).resolve().parents[2]


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 3), (0, 120, 200)).save(out, "PNG")
    return out.getvalue()


@contextmanager
def cloudinary_media(fake: FakeCloudinary, **environ: str) -> Iterator[None]:
    """The default storage on the fake Cloudinary, configured from the environment.

    The environment stays set until the settings are restored: django-cloudinary-storage
    re-reads its settings whenever CLOUDINARY_STORAGE changes, and insists on
    credentials (that setting or the environment) every time, restoring included.
    """
    env = {**fake.environ(**environ), "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
    config = cloudinary_config_from_env(env)
    assert config is not None
    with pytest.MonkeyPatch.context() as patch:
        for name in [name for name in os.environ if name.startswith("CLOUDINARY_")]:
            patch.delenv(name)
        for name, value in env.items():
            patch.setenv(name, value)
        with override_settings(  # resets django.core.files.storage.storages
            STORAGES={**settings.STORAGES, "default": {"BACKEND": RAW_STORAGE}},
            CLOUDINARY_STORAGE=cloudinary_storage_settings(config),
            CLOUDINARY=config,
        ):
            cloudinary.reset_config()  # the SDK reads CLOUDINARY and the environment
            yield
    cloudinary.reset_config()


@pytest.fixture
def fake() -> Iterator[FakeCloudinary]:
    with FakeCloudinary() as server:
        with cloudinary_media(server):
            yield server


@pytest.fixture
def thread(db: None) -> Thread:
    return services.start_visitor(session_key="cloudinary-test")[1]


def visitor_client(cookie: str) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.cookies[settings.SESSION_COOKIE_NAME] = cookie
    client.csrf = client.get("/").cookies["csrftoken"].value  # type: ignore[attr-defined]
    return client


def upload(client: Client, name: str, data: bytes) -> Any:
    return client.post(
        "/api/uploads/",
        {"file": SimpleUploadedFile(name, data)},
        HTTP_X_CSRFTOKEN=client.csrf,  # type: ignore[attr-defined]
    )


def store(thread: Thread, data: bytes, name: str) -> Attachment:
    return services.store_attachment(
        thread_id=thread.pk,
        uploaded_by="visitor",
        operator_id=None,
        cleaned=clean_upload(data, name=name),
    )


# --- Storing, serving, failing, cleaning up -----------------------------------------


def test_a_stored_attachment_is_a_raw_cloudinary_file_named_by_its_row(fake, thread):
    cleaned = clean_upload(png(), name="shot.png")
    attachment = services.store_attachment(
        thread_id=thread.pk, uploaded_by="visitor", operator_id=None, cleaned=cleaned
    )
    [call] = fake.calls_to("upload")
    assert call.path == f"/v1_1/{fake.cloud_name}/raw/upload"
    assert call.status == 200  # signed with the API secret, as Cloudinary checks
    stored_name = Attachment.objects.get(pk=attachment.pk).file.name
    assert stored_name.startswith("sohbet/attachments/")
    assert stored_name.endswith(".png")
    assert fake.stored(stored_name) == cleaned.content


@pytest.mark.django_db(transaction=True)
async def test_the_attachment_view_streams_the_stored_bytes_back(fake, connect_visitor):
    visitor = await connect_visitor()
    client = await sync_to_async(visitor_client)(visitor.cookie)
    uploaded = (await sync_to_async(upload)(client, "shot.png", png())).json()
    stored_name = (
        await database_sync_to_async(Attachment.objects.get)(pk=uploaded["id"])
    ).file.name

    def fetch() -> tuple[Any, bytes]:
        response = client.get(uploaded["url"])
        return response, b"".join(response.streaming_content)

    response, body = await sync_to_async(fetch)()
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert body == fake.stored(stored_name)
    assert [call.path for call in fake.calls if call.method == "GET"] == [
        f"/{fake.cloud_name}/raw/upload/v1/{stored_name}"
    ]


@pytest.mark.django_db(transaction=True)
async def test_an_upload_cloudinary_refuses_answers_503_and_leaves_no_row(
    fake, connect_visitor
):
    fake.fail_uploads(500)
    visitor = await connect_visitor()
    client = await sync_to_async(visitor_client)(visitor.cookie)
    response = await sync_to_async(upload)(client, "shot.png", png())
    assert response.status_code == 503
    assert response.json()["error"] == {
        "code": "unavailable",
        "detail": "The file could not be stored. Please try again.",
    }
    assert [call.status for call in fake.calls_to("upload")] == [500]
    assert await database_sync_to_async(Attachment.objects.count)() == 0
    assert fake.files == {}


@pytest.mark.django_db(transaction=True)
async def test_a_cloudinary_that_hangs_gets_a_503_after_the_timeout(
    fake, connect_visitor, settings
):
    settings.SOHBET_CLOUDINARY_TIMEOUT = 1
    fake.stall_uploads()
    visitor = await connect_visitor()
    client = await sync_to_async(visitor_client)(visitor.cookie)
    response = await sync_to_async(upload)(client, "shot.png", png())
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"
    assert len(fake.calls_to("upload")) == 1
    assert await database_sync_to_async(Attachment.objects.count)() == 0


def test_a_wrong_api_secret_stores_nothing(thread):
    with FakeCloudinary() as fake:
        with cloudinary_media(fake, CLOUDINARY_API_SECRET="not-the-secret"):
            with pytest.raises(cloudinary.exceptions.AuthorizationRequired):
                store(thread, png(), "shot.png")
    assert [call.status for call in fake.calls_to("upload")] == [401]
    assert not Attachment.objects.exists()
    assert fake.files == {}


def test_unsent_attachments_are_destroyed_on_cloudinary(
    fake, thread, django_capture_on_commit_callbacks
):
    attachment = store(thread, b"%PDF-1.7\n" + b"0" * 50, "invoice.pdf")
    stored_name = attachment.file.name
    Attachment.objects.filter(pk=attachment.pk).update(
        created_at=timezone.now() - dt.timedelta(days=2)
    )
    with django_capture_on_commit_callbacks(execute=True):  # files go after commit
        removed = services.delete_unsent_attachments(older_than=dt.timedelta(days=1))
    assert removed == 1
    [call] = fake.calls_to("destroy")
    assert (call.path, call.fields["public_id"], call.status) == (
        f"/v1_1/{fake.cloud_name}/raw/destroy",
        stored_name,
        200,
    )
    assert fake.stored(stored_name) is None
    assert not Attachment.objects.exists()


# --- Configuration from the environment ---------------------------------------------

ACCOUNT = {"cloud_name": "demo", "api_key": "123", "api_secret": "abc"}
OLD_VARIABLES = {
    "CLOUDINARY_CLOUD_NAME": "demo",
    "CLOUDINARY_API_KEY": "123",
    "CLOUDINARY_API_SECRET": "abc",
}


def test_cloudinary_url_gives_the_account():
    url = {"CLOUDINARY_URL": "cloudinary://123:abc@demo"}
    assert cloudinary_config_from_env(url) == ACCOUNT


def test_the_old_three_variables_give_the_same_account():
    assert cloudinary_config_from_env(OLD_VARIABLES) == ACCOUNT


def test_sdk_options_come_from_the_url_query_or_their_own_variables():
    from_url = cloudinary_config_from_env(
        {
            "CLOUDINARY_URL": "cloudinary://123:abc@demo"
            "?upload_prefix=http://127.0.0.1:9&cname=127.0.0.1:9&secure=false"
        }
    )
    from_variables = cloudinary_config_from_env(
        {
            **OLD_VARIABLES,
            "CLOUDINARY_UPLOAD_PREFIX": "http://127.0.0.1:9",
            "CLOUDINARY_CNAME": "127.0.0.1:9",
            "CLOUDINARY_SECURE": "false",
        }
    )
    expected = {
        **ACCOUNT,
        "upload_prefix": "http://127.0.0.1:9",
        "cname": "127.0.0.1:9",
        "secure": False,
    }
    assert from_url == from_variables == expected
    assert cloudinary_storage_settings(expected)["SECURE"] is False


def test_without_cloudinary_variables_there_is_no_config():
    assert cloudinary_config_from_env({"CLOUDINARY_URL": "", "PATH": "/bin"}) is None


@pytest.mark.parametrize(
    "environ",
    [
        {"CLOUDINARY_URL": "https://123:abc@demo"},
        {"CLOUDINARY_URL": "cloudinary://123@demo"},
        {"CLOUDINARY_URL": "cloudinary://123:abc@"},
        {"CLOUDINARY_CLOUD_NAME": "demo", "CLOUDINARY_API_SECRET": "abc"},
        {**OLD_VARIABLES, "CLOUDINARY_URL": "cloudinary://123:other@demo"},
    ],
    ids=["scheme", "no-secret", "no-cloud", "two-of-three", "two-accounts"],
)
def test_incomplete_or_conflicting_cloudinary_settings_fail_at_boot(environ):
    with pytest.raises(ImproperlyConfigured) as refused:
        cloudinary_config_from_env(environ)
    assert "abc" not in str(refused.value)
    assert "other" not in str(refused.value)


@pytest.mark.parametrize(
    "environ",
    [{"CLOUDINARY_URL": "cloudinary://123:abc@demo"}, OLD_VARIABLES],
    ids=["url", "old-variables"],
)
def test_the_settings_module_switches_media_to_cloudinary_raw_files(environ):
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("CLOUDINARY_", "DJANGO_"))
    }
    code = (
        "import json, chatsite.settings as s; print(json.dumps("
        "[s.STORAGES['default'], s.CLOUDINARY_STORAGE, s.CLOUDINARY]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, **environ, "DJANGO_DEBUG": "1"},
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    default, storage_settings, config = json.loads(result.stdout)
    assert default == {"BACKEND": RAW_STORAGE}
    assert storage_settings == {
        "CLOUD_NAME": "demo",
        "API_KEY": "123",
        "API_SECRET": "abc",
        "SECURE": True,
        "PREFIX": "sohbet",
    }
    assert config == ACCOUNT
