"""The operator console, served by the provider at ``/console``: server-rendered pages on the
same services as the API, every change audited under the operator's name.

Layout
======

``app.py``         builds the console (a FastAPI sub-application mounted by ``create_app``; it
                   stays out of the OpenAPI document and off the API's routes)
``security.py``    security headers on every answer; the Origin and CSRF check on every change
``auth.py``        the signed-in operator, roles, re-authentication, the sign-in cookies
``templating.py``  the Jinja2 environment (autoescaped) and ``render``
``errors.py``      refusals as HTML pages (JSON for the few ``fetch`` calls)
``pages/``         one module per page; ``pages/__init__.py`` lists them in navigation order
``templates/console/``  ``base.html`` and one folder or file per page
``static/``        ``console.css`` and ``webauthn.js``: no CDN, no inline script or style

Adding a page
=============

1. Write ``pages/things.py``::

       from fastapi import APIRouter, Request
       from fastapi.responses import HTMLResponse

       from twofa.provider.console.auth import SignedIn, require
       from twofa.provider.console.templating import Nav, render, services

       router = APIRouter()
       NAV = Nav("Things", "/things")                 # or NAV = None: not in the menu

       @router.get("/things", response_class=HTMLResponse)
       def things(request: Request, operator: SignedIn) -> HTMLResponse:
           rows = services(request).things.all()      # a service, never SQL in a route
           return render(request, "console/things.html", rows=rows)

   Routes are plain ``def`` (FastAPI runs them in a worker thread; the services block).
   Paths are relative to ``/console``.
2. Add the module to ``PAGES`` in ``pages/__init__.py``.
3. Write ``templates/console/things.html``::

       {% extends "console/base.html" %}
       {% block title %}Things{% endblock %}
       {% block content %}<h1>Things</h1> ... {% endblock %}

   ``render`` passes ``operator`` (or None), ``csrf_token``, ``nav`` and ``flash`` to every
   template, plus the keyword arguments given. Undefined names raise (StrictUndefined).
   Links are absolute: ``href="/console/things"``. The CSP forbids inline ``<script>``,
   ``style=""`` attributes and ``<style>`` (SVG too: use presentation attributes such as
   ``fill=""``); add classes to ``static/console.css`` instead.

The operator and roles
======================

- ``services(request)`` is the provider's ``Services``; ``settings(request)`` its settings.
- ``operator: SignedIn`` (an ``Annotated`` dependency) is the signed-in ``Operator``
  (``.name``, ``.role``, ``.actor`` = ``"operator:<name>"``); without a session a GET is
  redirected to the sign-in page and comes back after it.
- ``operator: Operator = Depends(require("admin", "helpdesk"))`` also refuses other roles
  with a 403 page. Roles: ``admin`` (everything), ``helpdesk`` (revoke devices, unlock
  counters, retry deliveries), ``read-only`` (sees everything, changes nothing).
- ``operator: RecentFactor`` asks for a second factor within
  ``TWOFA_CONSOLE_REAUTH_SECONDS`` (key rotation, deletes, operator changes): otherwise the
  operator is sent to ``/console/reauth`` and then back to a GET of the same path. So give
  such an action a confirmation page whose GET and POST share one path (a POST cannot be
  replayed after a redirect), and put ``RecentFactor`` on both; combine it with a role check
  by also taking ``Depends(require(...))``.

Changes
=======

Every POST, PUT, PATCH and DELETE is refused (403) unless its ``Origin`` header is the
console's origin and it carries the CSRF token: forms include
``<input type="hidden" name="csrf_token" value="{{ csrf_token }}">``; ``fetch`` calls send it
in the ``X-CSRF-Token`` header (the page's ``<meta name="csrf-token">``). The check runs for
every route of every page router; a page cannot forget it. A change calls a service with
``actor=operator.actor`` so the audit entry names the operator, then answers
``redirect(request, "/things", flash="Saved.")`` (303 to a GET page that shows the message once). A
secret shown once (a new API key) is rendered by the POST itself instead.

Landing page and tests
======================

``/console/`` is ``pages/home.py`` (it redirects to the applications for now; a dashboard may
take its place). In-process tests sign operators in through ``tests/provider/console/
conftest.py``: ``alice = console.operator("alice", "helpdesk"); alice.sign_in()``, then
``alice.get(...)`` and ``alice.post(path, form)`` (Origin and CSRF token added as a page would).
"""
