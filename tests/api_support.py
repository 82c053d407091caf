"""Helpers for the API tests: a client that calls ``/api/v1/`` with an employee's token."""

from __future__ import annotations

import json

from django.test import Client

from api.tokens import create_api_token

API = "/api/v1/"


class ApiClient:
    """Django's test client, sending ``Authorization: Bearer <token>`` and JSON bodies."""

    def __init__(self, secret: str | None, **headers):
        self.client = Client()
        self.secret = secret
        self.headers = headers

    def call(self, method: str, path: str, body=None, **headers):
        url = path if path.startswith("/") else API + path
        all_headers = dict(self.headers)
        if self.secret:
            all_headers["Authorization"] = f"Bearer {self.secret}"
        all_headers.update(headers)
        data = json.dumps(body) if body is not None else None
        return getattr(self.client, method.lower())(
            url, data=data, content_type="application/json", headers=all_headers
        ) if data is not None else getattr(self.client, method.lower())(url, headers=all_headers)

    def get(self, path, **headers):
        return self.call("GET", path, **headers)

    def post(self, path, body=None, **headers):
        return self.call("POST", path, {} if body is None else body, **headers)

    def patch(self, path, body=None, **headers):
        return self.call("PATCH", path, {} if body is None else body, **headers)


def token_client(employee, name: str = "Test system") -> ApiClient:
    _token, secret = create_api_token(employee=employee, name=name)
    return ApiClient(secret)
