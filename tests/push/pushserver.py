"""A Web Push service of our own on 127.0.0.1, for the tests.

It accepts the POSTs a push service accepts (RFC 8030): it checks the VAPID JWT
(RFC 8292: ES256 signature against the key in the header, which must be the
site's; audience, expiry, subject), decrypts the aes128gcm body (RFC 8291) with
the browser keys ``new_subscription`` made, and records what arrived. A test
can queue the answers of an endpoint (410, 429 with Retry-After, 500, ...).
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Browser:
    """The keys a browser keeps for one subscription."""

    token: str
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes

    def subscription(self, base_url: str) -> dict[str, Any]:
        public = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {
            "endpoint": f"{base_url}/push/{self.token}",
            "keys": {"p256dh": b64url(public), "auth": b64url(self.auth)},
        }


@dataclass
class Received:
    token: str
    payload: dict[str, Any]
    headers: dict[str, str]
    claims: dict[str, Any]


@dataclass
class PushService:
    vapid_public_key: str
    browsers: dict[str, Browser] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # why requests were refused
    answers: dict[str, list[tuple[int, dict[str, str]]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def new_subscription(self) -> dict[str, Any]:
        browser = Browser(
            token=secrets.token_urlsafe(12),
            private_key=ec.generate_private_key(ec.SECP256R1()),
            auth=os.urandom(16),
        )
        self.browsers[browser.token] = browser
        return browser.subscription(self.url)

    def answer(self, subscription: dict[str, Any], status: int, **headers: str) -> None:
        """The next POST to this subscription gets ``status`` (queued in order)."""
        token = subscription["endpoint"].rsplit("/", 1)[1]
        with self.lock:
            self.answers.setdefault(token, []).append((status, headers))

    def for_(self, subscription: dict[str, Any]) -> list[Received]:
        token = subscription["endpoint"].rsplit("/", 1)[1]
        return [r for r in self.received if r.token == token]

    def start(self) -> None:
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                status, headers = service.handle(
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(int(self.headers.get("Content-Length") or 0)),
                )
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def handle(
        self, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str]]:
        token = path.rsplit("/", 1)[-1]
        browser = self.browsers.get(token)
        if not path.startswith("/push/") or browser is None:
            return 404, {}
        with self.lock:
            queued = self.answers.get(token)
            if queued:
                return queued.pop(0)
        try:
            claims = self._check_vapid(headers.get("authorization", ""))
            if headers.get("content-encoding") != "aes128gcm":
                raise ValueError(f"encoding {headers.get('content-encoding')!r}")
            if "ttl" not in headers:
                raise ValueError("no TTL header")
            plain = http_ece.decrypt(
                body,
                private_key=browser.private_key,
                auth_secret=browser.auth,
                version="aes128gcm",
            )
            payload = json.loads(plain)
        except Exception as exc:  # noqa: BLE001 - the test reads why
            self.refused.append(f"{type(exc).__name__}: {exc}")
            return 400, {}
        with self.lock:
            self.received.append(Received(token, payload, headers, claims))
        return 201, {}

    def _check_vapid(self, authorization: str) -> dict[str, Any]:
        """``vapid t=<JWT>, k=<public key>`` (RFC 8292), signed by the site's key."""
        scheme, _space, params = authorization.partition(" ")
        if scheme.lower() != "vapid":
            raise ValueError(f"authorization scheme {scheme!r}")
        parts = dict(
            item.strip().split("=", 1) for item in params.split(",") if "=" in item
        )
        if parts.get("k") != self.vapid_public_key:
            raise ValueError("not the site's VAPID key")
        header, claims, signature = parts["t"].split(".")
        if json.loads(unb64url(header)).get("alg") != "ES256":
            raise ValueError("not ES256")
        raw = unb64url(signature)
        der = encode_dss_signature(
            int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
        )
        key = ec.EllipticCurvePublicKey.from_encoded_point(
            ec.SECP256R1(), unb64url(parts["k"])
        )
        try:
            key.verify(
                der, f"{header}.{claims}".encode("ascii"), ec.ECDSA(hashes.SHA256())
            )
        except InvalidSignature:
            raise ValueError("bad VAPID signature") from None
        decoded = json.loads(unb64url(claims))
        if decoded.get("aud") != self.url:
            raise ValueError(f"audience {decoded.get('aud')!r}")
        if not (time.time() < decoded.get("exp", 0) <= time.time() + 24 * 3600):
            raise ValueError("expiry")
        if not str(decoded.get("sub", "")).startswith(("mailto:", "https:")):
            raise ValueError("subject")
        return decoded
