"""The web dashboard: a FastAPI app with server-rendered pages and a JSON API, thin over ``marginbook.app``.

Layout (STYLE §8): :mod:`~marginbook.web.main` builds the app, :mod:`~marginbook.web.deps`
holds the request dependencies, one router per resource lives in :mod:`marginbook.web.routes`,
and :mod:`~marginbook.web.security` holds the access token, CSRF and size-limit rules.
"""
