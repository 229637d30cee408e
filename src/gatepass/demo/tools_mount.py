"""The offline tools page (``gatepass.tools``) served at ``/tools/`` beside the app.

Its own files, its own headers: the page's Content-Security-Policy (``connect-src 'none'``,
``form-action 'none'``) applies here exactly as under ``gatepass tools``, so the browser still
forbids the page any request. The app hands it a token in the URL fragment
(``/tools/#token=...``), which browsers never send to a server: the token reaches no request
line and no access log.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from gatepass.tools.server import SECURITY_HEADERS, static_files

__all__ = ["tools_routes"]


def tools_routes() -> list[Route]:
    files = static_files()
    headers = dict(SECURITY_HEADERS)

    async def tools_file(request: Request) -> Response:
        found = files.get("/" + request.path_params["name"])
        if found is None:
            return PlainTextResponse("not found\n", 404, headers=headers)
        body, content_type = found
        return Response(body, 200, headers=headers, media_type=content_type)

    async def tools_root(request: Request) -> Response:
        # The page links its files relatively: it must be loaded as /tools/, not /tools.
        return RedirectResponse("/tools/", status_code=308)

    return [
        Route("/tools", tools_root, methods=["GET", "HEAD"]),
        Route("/tools/{name:path}", tools_file, methods=["GET", "HEAD"]),
    ]
