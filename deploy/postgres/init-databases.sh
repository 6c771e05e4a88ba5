#!/bin/sh
# Run once by the postgres image on an empty data directory (docker-entrypoint-initdb.d).
# The provider's database is POSTGRES_DB (twofa, owned by POSTGRES_USER). The site gets its own
# role and database: a site compromise reaches neither the provider's tables nor its role.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
     -v site_password="$SITE_POSTGRES_PASSWORD" <<'SQL'
CREATE ROLE twofa_site LOGIN PASSWORD :'site_password';
CREATE DATABASE twofa_site OWNER twofa_site;
REVOKE ALL ON DATABASE twofa FROM PUBLIC;
REVOKE ALL ON DATABASE twofa_site FROM PUBLIC;
SQL
