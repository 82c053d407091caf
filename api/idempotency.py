"""``Idempotency-Key`` on creation: the same key and request within 24 hours answers with the
first result instead of creating a second chain; the same key with another request is refused.

The key's row is inserted in the transaction that creates the orders, before them. A second
request with the same key (another process, at the same moment) waits on the unique index
until the first commits, then reads and replays its result; if the first failed, its row is
gone with its transaction and the second one creates. A failed request (4xx) stores nothing:
the client may correct it and send it again with the same key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from api.models import IdempotencyRecord
from api.problems import Problem, validation_problem

KEEP_FOR = dt.timedelta(hours=24)
HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEPT_HEADERS = ("Location", "ETag")


def fingerprint_of(request: HttpRequest) -> str:
    try:
        body = json.dumps(json.loads(request.body or b"null"), sort_keys=True,
                          separators=(",", ":"))
    except ValueError:
        body = request.body.decode("utf-8", "replace")
    text = f"{request.method}\n{request.path}\n{body}"
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _key_of(request: HttpRequest) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > 255 or not key.isprintable():
        raise validation_problem([{"field": HEADER, "message": _(
            "Idempotency-Key must be 1 to 255 printable characters, e.g. a UUID.")}])
    return key


def _replay(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(
        record.body, status=record.status_code, content_type="application/json; charset=utf-8"
    )
    for name, value in record.headers.items():
        response[name] = value
    response[REPLAYED_HEADER] = "true"
    return response


def run_once(request: HttpRequest, create: Callable[[], HttpResponse]) -> HttpResponse:
    """Answer ``create()``'s response, or the stored first response for this key."""
    key = _key_of(request)
    if key is None:
        return create()
    employee = request.auth
    fingerprint = fingerprint_of(request)
    with transaction.atomic():
        IdempotencyRecord.objects.filter(
            employee=employee, key=key, created_at__lt=timezone.now() - KEEP_FOR
        ).delete()
        try:
            # A savepoint: losing the race on the unique index leaves the transaction usable.
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    employee=employee, key=key, fingerprint=fingerprint
                )
        except IntegrityError:
            record = IdempotencyRecord.objects.get(employee=employee, key=key)
            if record.fingerprint != fingerprint:
                raise Problem(
                    422,
                    _("This Idempotency-Key was already used with another request in the last "
                      "24 hours. Use a new key for a new request."),
                    kind="idempotency-key-reused",
                ) from None
            return _replay(record)
        response = create()
        record.status_code = response.status_code
        record.body = response.content.decode()
        record.headers = {
            name: response[name] for name in KEPT_HEADERS if response.has_header(name)
        }
        record.save(update_fields=["status_code", "body", "headers"])
    return response
