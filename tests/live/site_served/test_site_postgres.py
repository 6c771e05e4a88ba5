"""``twofa site --migrate-only`` and ``twofa site`` with the site's own database on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, select

from tests.live.site_served.conftest import WebBrowser
from tests.servers import START_TIMEOUT, LiveProvider, postgres_database, provider_env, run_cli
from twofa import process
from twofa.process import free_port, twofa_command
from twofa.site.db import VERSION_TABLE, login_attempts, users

pytestmark = pytest.mark.postgres


def test_push_login_with_the_site_database_on_postgresql(
    tmp_path: Path, live: LiveProvider
) -> None:
    with postgres_database() as site_db:
        env = provider_env(tmp_path, f"sqlite:///{tmp_path / 'provider.db'}")
        env["TWOFA_SITE_DATABASE_URL"] = site_db
        upgraded = run_cli("db", "upgrade", env=env)
        assert upgraded.returncode == 0, upgraded.stderr
        assert upgraded.stdout.splitlines() == ["Database is up to date."]
        site_upgraded = run_cli("site", "--migrate-only", env=env)
        assert site_upgraded.returncode == 0, site_upgraded.stderr
        assert site_upgraded.stdout.splitlines() == ["site database is up to date"]
        engine = create_engine(site_db)
        try:
            tables = set(inspect(engine).get_table_names())
            assert {"site_users", "site_login_attempts", "site_sessions", VERSION_TABLE} <= tables

            port = free_port()
            url = f"http://127.0.0.1:{port}"
            _, key = live.new_app("Site on PostgreSQL", callback_url=url + "/authy/callback")
            env.update(
                {
                    "TWOFA_SITE_API_KEY": key,
                    "TWOFA_SITE_PROVIDER_URL": live.url,
                    "TWOFA_SITE_PUBLIC_URL": url,
                    "TWOFA_SITE_PASSWORD_MEMORY_KIB": "1024",
                }
            )
            log_path = tmp_path / "site.log"
            proc = process.spawn(
                twofa_command("site", "--port", str(port)), env=env, log_path=log_path
            )
            browser = WebBrowser(url, live)
            try:
                process.wait_until_up(url + "/", proc, timeout=START_TIMEOUT, log_path=log_path)
                _sign_up_enrol_and_approve(browser, live)
            except BaseException:
                print(log_path.read_text())
                raise
            finally:
                browser.close()
                process.stop(proc)

            with engine.connect() as conn:
                (user_id,) = conn.execute(select(users.c.id)).scalars().all()
                rows = conn.execute(
                    select(login_attempts.c.method, login_attempts.c.approval_status)
                    .where(
                        login_attempts.c.user_id == user_id, login_attempts.c.state == "completed"
                    )
                    .order_by(login_attempts.c.id)
                ).all()
            assert [tuple(r) for r in rows] == [("sms", None), ("push", "approved")]
        finally:
            engine.dispose()


def _sign_up_enrol_and_approve(browser: WebBrowser, live: LiveProvider) -> None:
    browser.register()
    device = live.enroll_device("1", browser.phone)
    assert browser.login().headers["location"] == "/login/wait"
    number = browser.status()["number"]
    (request,) = device.wait_pending()
    seen = browser.events_until_final(lambda _: device.approve(request.uuid, number))
    assert seen == ["pending", "approved"]
    done = browser.post("/login/complete", csrf_from="/login/wait")
    assert done.headers["location"] == "/account"
    assert "Push approval" in browser.get("/account").text
