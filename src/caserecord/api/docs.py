"""`/docs` and `/redoc` with their scripts served by the app itself, not from a CDN, so the
API documentation works on a network without internet access.

Swagger UI is started by a script file of the app's own (`/docs/swagger-init.js`), not an
inline script, so the pages keep a Content-Security-Policy without inline scripts; their
bundles inject styles, so those pages allow inline styles."""

import json
from html import escape
from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_oauth2_redirect_html
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse, Response

# fastapi-offline (pinned in pyproject.toml) ships the Swagger UI and ReDoc dist files.
ASSETS = files("fastapi_offline").joinpath("static")
STATIC = "/static/docs"
OAUTH2_REDIRECT = "/docs/oauth2-redirect"
SWAGGER_INIT = "/docs/swagger-init.js"
DOCS_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

SWAGGER_HTML = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link type="text/css" rel="stylesheet" href="{css}">
<link rel="icon" href="{favicon}">
<title>{title}</title>
</head>
<body>
<div id="swagger-ui" data-config="{config}"></div>
<script src="{bundle}"></script>
<script src="{init}"></script>
</body>
</html>
"""

SWAGGER_INIT_JS = """"use strict";
const holder = document.getElementById("swagger-ui");
const config = JSON.parse(holder.dataset.config);
window.ui = SwaggerUIBundle({
  url: config.url,
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  oauth2RedirectUrl: window.location.origin + config.oauth2RedirectUrl,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
});
"""


def install(app: FastAPI) -> None:
    """Call with ``FastAPI(docs_url=None, redoc_url=None)``: these pages replace FastAPI's."""
    app.mount(STATIC, StaticFiles(directory=str(ASSETS)), name="docs-assets")
    headers = {"Content-Security-Policy": DOCS_POLICY}

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        config = {
            "url": f"{root}{app.openapi_url}",
            "oauth2RedirectUrl": f"{root}{OAUTH2_REDIRECT}",
        }
        page = SWAGGER_HTML.format(
            css=f"{root}{STATIC}/swagger-ui.css",
            favicon=f"{root}{STATIC}/favicon.png",
            title=escape(f"{app.title} - Swagger UI"),
            config=escape(json.dumps(config)),
            bundle=f"{root}{STATIC}/swagger-ui-bundle.js",
            init=f"{root}{SWAGGER_INIT}",
        )
        return HTMLResponse(page, headers=headers)

    @app.get(SWAGGER_INIT, include_in_schema=False)
    async def swagger_init() -> Response:
        return Response(SWAGGER_INIT_JS, media_type="text/javascript")

    @app.get(OAUTH2_REDIRECT, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        page = get_redoc_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{STATIC}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{STATIC}/favicon.png",
            with_google_fonts=False,
        )
        return HTMLResponse(page.body, headers=headers)
