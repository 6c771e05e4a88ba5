"""An import that cannot get SQLite's write lock fails cleanly and writes nothing."""

from __future__ import annotations

from click.testing import CliRunner

from tests.provider.conftest import Authy
from twofa.provider.services import Services
from twofa.provider.users_cli import users_group
from twofa.settings import Settings

BIG = 700_000_000


def test_a_busy_database_fails_the_import_cleanly(
    authy: Authy, services: Services, settings: Settings
) -> None:
    path = settings.data_dir / "users.csv"
    path.write_text(f"authy_id,email,country_code,phone\n{BIG + 1},a@example.com,1,2015550101\n")
    env = {
        "TWOFA_ENV": "test",
        "TWOFA_SECRET_KEY": settings.key.decode(),
        "TWOFA_DATABASE_URL": settings.provider_database_url,
        "TWOFA_DATA_DIR": str(settings.data_dir),
        "TWOFA_DB_LOCK_TIMEOUT": "0.3",
    }
    with services.db.write():  # another writer holds the lock for the whole attempt
        done = CliRunner().invoke(users_group, ["import", str(authy.app_id), str(path)], env=env)
    assert done.exit_code == 1, done.output
    assert done.stderr.startswith("twofa: Service busy") and "nothing was imported" in done.stderr
    assert authy.get(f"/protected/json/users/{BIG + 1}/status").status_code == 404
    again = CliRunner().invoke(users_group, ["import", str(authy.app_id), str(path)], env=env)
    assert again.exit_code == 0, again.output
