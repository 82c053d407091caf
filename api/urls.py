"""``/api/v1/``: the operations, the OpenAPI schema (``openapi.json``) and its documentation
page (``docs/``, Swagger UI served from django-ninja's own static files: no CDN).

The API authenticates every request itself (token or session, ``api/auth.py``), so its URLs are
exempt from the login redirect the screens use; an anonymous call answers 401.
"""

from functools import wraps

from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect
from django.urls import URLPattern

from api.auth import rate_headers
from api.endpoints import api


def _with_rate_headers(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        hit = getattr(request, "rate_limit", None)
        if hit is not None and response.status_code != 429:
            for name, value in rate_headers(hit).items():
                response[name] = value
        return response

    return wrapper


_patterns, _app_name, _namespace = api.urls
app_name = "api"
urlpatterns = []
for pattern in _patterns:
    if isinstance(pattern, URLPattern) and pattern.name == "api-root":
        # /api/v1/ itself: the documentation page (which asks a visitor to sign in).
        pattern.callback = lambda request, **kwargs: redirect("api:openapi-view")
    elif isinstance(pattern, URLPattern):
        pattern.callback = login_not_required(_with_rate_headers(pattern.callback))
    urlpatterns.append(pattern)
