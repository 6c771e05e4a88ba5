"""The tutorial's Flask site, rebuilt: sign-up, password login, push or code, account page.

Build it with ``twofa.site.app.create_app(settings)``.
"""
