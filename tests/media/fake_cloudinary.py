"""A fake Cloudinary on 127.0.0.1: the Upload API and delivery of stored files.

It implements what django-cloudinary-storage's media storages call through the SDK:

- ``POST /v1_1/<cloud>/<resource_type>/upload`` and ``.../destroy`` (multipart, signed
  like Cloudinary checks it: SHA-1 of the sorted ``key=value`` parameters followed by
  the API secret; a bad signature or key gets 401, a stale timestamp 400);
- ``GET`` and ``HEAD`` of delivery URLs, ``/<cloud>/<resource_type>/<type>/v<n>/<id>``
  (``_open``; ``exists`` and ``size`` are a HEAD).

Point the SDK at it with ``upload_prefix`` (API calls) and ``cname`` with
``secure=False`` (delivery URLs): :meth:`FakeCloudinary.environ` gives the
environment that does so. Every request is recorded in :attr:`FakeCloudinary.calls`.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

API_PATH = re.compile(
    r"^/v1_1/(?P<cloud>[^/]+)/(?P<resource_type>[a-z]+)/(?P<action>\w+)$"
)
DELIVERY_PATH = re.compile(
    r"^/(?P<cloud>[^/]+)/(?P<resource_type>image|raw|video)/(?P<type>[a-z]+)/"
    r"(?:s--[\w-]+--/)?(?:v\d+/)?(?P<public_id>.+)$"
)
# Parameters Cloudinary leaves out of the signature.
UNSIGNED = {"file", "api_key", "signature", "resource_type", "cloud_name"}
MAX_CLOCK_SKEW = 3600


@dataclass
class Call:
    method: str
    path: str
    fields: dict[str, str] = field(default_factory=dict)
    file: bytes | None = None
    status: int = 0

    @property
    def action(self) -> str:
        return self.path.rsplit("/", 1)[-1] if self.path.startswith("/v1_1/") else ""


@dataclass
class Stored:
    data: bytes
    version: int


class FakeCloudinary:
    """One cloud, one API key; start it with ``with FakeCloudinary() as fake:``."""

    def __init__(
        self,
        *,
        cloud_name: str = "sohbet-test",
        api_key: str = "614335564976464",
        api_secret: str = "fake-secret-0123456789",
    ) -> None:
        self.cloud_name = cloud_name
        self.api_key = api_key
        self.api_secret = api_secret
        self.calls: list[Call] = []
        self.files: dict[tuple[str, str, str], Stored] = {}
        self.upload_failure: int | None = None
        self.stalled = threading.Event()  # set: uploads get no answer
        self._closing = threading.Event()
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FakeCloudinary:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closing.set()  # lets stalled requests go
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self._server.server_address[1]}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def environ(self, **overrides: str) -> dict[str, str]:
        """Variables that point the Cloudinary SDK at this server (the old system's
        three variables, which let the SDK read the other CLOUDINARY_* options)."""
        return {
            "CLOUDINARY_CLOUD_NAME": self.cloud_name,
            "CLOUDINARY_API_KEY": self.api_key,
            "CLOUDINARY_API_SECRET": self.api_secret,
            "CLOUDINARY_UPLOAD_PREFIX": self.url,
            "CLOUDINARY_CNAME": self.host,
            "CLOUDINARY_SECURE": "false",
            **overrides,
        }

    def stall_uploads(self) -> None:
        """Read uploads and never answer them (until the server stops, at most 60 s):
        a Cloudinary that hangs."""
        self.stalled.set()

    def fail_uploads(self, status: int = 500) -> None:
        """Answer every upload from now on with this HTTP error."""
        self.upload_failure = status

    def stored(self, public_id: str, resource_type: str = "raw") -> bytes | None:
        found = self.files.get((resource_type, "upload", public_id))
        return found.data if found else None

    def calls_to(self, action: str) -> list[Call]:
        return [call for call in self.calls if call.action == action]

    def signature(self, fields: dict[str, str]) -> str:
        """What Cloudinary expects in ``signature`` for these parameters."""
        pairs = sorted(
            f"{key}={value}".replace("&", "%26")
            for key, value in fields.items()
            if key not in UNSIGNED and value
        )
        to_sign = ("&".join(pairs) + self.api_secret).encode()
        return hashlib.sha1(to_sign).hexdigest()  # noqa: S324 - Cloudinary's algorithm

    # --- Endpoints ----------------------------------------------------------------

    def handle_api(
        self, resource_type: str, action: str, fields: dict[str, str], file: Any
    ) -> tuple[int, dict[str, Any]]:
        if fields.get("api_key") != self.api_key:
            return 401, _error(f"Unknown API key {fields.get('api_key')}")
        if fields.get("signature") != self.signature(fields):
            return 401, _error("Invalid Signature")
        if abs(time.time() - int(fields.get("timestamp") or 0)) > MAX_CLOCK_SKEW:
            return 400, _error("Stale request")
        if action == "upload":
            if self.upload_failure:
                return self.upload_failure, _error("General Error (injected)")
            return self._upload(resource_type, fields, file)
        if action == "destroy":
            key = (resource_type, fields.get("type") or "upload", fields["public_id"])
            with self._lock:
                found = self.files.pop(key, None)
            return 200, {"result": "ok" if found else "not found"}
        return 404, _error(f"Unsupported action {action}")

    def _upload(
        self, resource_type: str, fields: dict[str, str], file: tuple[str, bytes] | None
    ) -> tuple[int, dict[str, Any]]:
        if file is None:
            return 400, _error("Missing required parameter - file")
        filename, data = file
        stem, dot, extension = filename.rpartition(".")
        if not dot:
            stem, extension = filename, ""
        public_id = fields.get("public_id") or (
            stem if fields.get("use_filename") == "1" else secrets.token_hex(10)
        )
        if not fields.get("public_id") and fields.get("unique_filename") != "0":
            public_id += "_" + secrets.token_hex(3)
        if resource_type == "raw" and extension and not fields.get("public_id"):
            public_id += "." + extension  # raw public ids keep their extension
        if fields.get("folder"):
            public_id = fields["folder"].strip("/") + "/" + public_id
        delivery_type = fields.get("type") or "upload"
        version = int(time.time())
        with self._lock:
            self.files[(resource_type, delivery_type, public_id)] = Stored(
                data, version
            )
        path = f"{resource_type}/{delivery_type}/v{version}/{public_id}"
        answer: dict[str, Any] = {
            "asset_id": secrets.token_hex(16),
            "public_id": public_id,
            "version": version,
            "version_id": secrets.token_hex(16),
            "signature": secrets.token_hex(20),
            "resource_type": resource_type,
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(version)),
            "tags": fields.get("tags", "").split(",") if fields.get("tags") else [],
            "bytes": len(data),
            "type": delivery_type,
            "etag": hashlib.md5(data).hexdigest(),  # noqa: S324 - as Cloudinary's
            "placeholder": False,
            "url": f"{self.url}/{self.cloud_name}/{path}",
            "secure_url": f"{self.url}/{self.cloud_name}/{path}",
            "original_filename": stem,
            "api_key": self.api_key,
        }
        if resource_type != "raw":  # raw files have no format: their id keeps it
            answer["format"] = extension
        return 200, answer

    def handle_delivery(self, path: str) -> bytes | None:
        match = DELIVERY_PATH.match(path)
        if not match or match["cloud"] != self.cloud_name:
            return None
        key = (match["resource_type"], match["type"], match["public_id"])
        found = self.files.get(key)
        return found.data if found else None

    def record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeCloudinary


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    @property
    def fake(self) -> FakeCloudinary:
        return self.server.fake

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        fields, file = _parse_form(self.headers.get("Content-Type", ""), body)
        call = Call("POST", self.path, fields, file[1] if file else None)
        if self.fake.stalled.is_set():
            call.status = 0
            self.fake.record(call)
            self.fake._closing.wait(60)  # bounded: the test's client gives up first
            return
        match = API_PATH.match(self.path)
        if not match or match["cloud"] != self.fake.cloud_name:
            status, answer = 404, _error("Invalid cloud_name")
        else:
            status, answer = self.fake.handle_api(
                match["resource_type"], match["action"], fields, file
            )
        call.status = status
        self.fake.record(call)
        self._send(status, json.dumps(answer).encode(), "application/json")

    def do_GET(self) -> None:
        self._deliver(head=False)

    def do_HEAD(self) -> None:
        self._deliver(head=True)

    def _deliver(self, *, head: bool) -> None:
        data = self.fake.handle_delivery(self.path)
        call = Call(self.command, self.path, status=404 if data is None else 200)
        self.fake.record(call)
        if data is None:
            self._send(404, b"Resource not found", "text/plain", head=head)
        else:
            self._send(200, data, "application/octet-stream", head=head)

    def _send(
        self, status: int, body: bytes, content_type: str, *, head: bool = False
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)


def _parse_form(
    content_type: str, body: bytes
) -> tuple[dict[str, str], tuple[str, bytes] | None]:
    """multipart/form-data as urllib3 (the SDK's client) encodes it, byte for byte;
    ``name[]`` lists are joined with commas, as they are signed."""
    header = Message()
    header["Content-Type"] = content_type
    boundary = header.get_param("boundary")
    if not isinstance(boundary, str):
        return {}, None
    lists: dict[str, list[str]] = {}
    fields: dict[str, str] = {}
    file: tuple[str, bytes] | None = None
    for part in _parts(body, boundary.encode()):
        head, _, data = part.partition(b"\r\n\r\n")
        disposition = Message()
        for line in head.decode().split("\r\n"):
            name, _, value = line.partition(":")
            disposition[name.strip()] = value.strip()
        name = str(disposition.get_param("name", header="content-disposition"))
        filename = disposition.get_param("filename", header="content-disposition")
        if isinstance(filename, str):
            file = (filename, data)
        elif name.endswith("[]"):
            lists.setdefault(name[:-2], []).append(data.decode())
        else:
            fields[name] = data.decode()
    fields.update((name, ",".join(values)) for name, values in lists.items())
    return fields, file


def _parts(body: bytes, boundary: bytes) -> Iterator[bytes]:
    for chunk in body.split(b"--" + boundary)[1:]:
        if chunk.startswith(b"--"):
            return
        yield chunk.removeprefix(b"\r\n").removesuffix(b"\r\n")


def _error(message: str) -> dict[str, Any]:
    return {"error": {"message": message}}
