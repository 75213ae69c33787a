#!/bin/sh
# The auth file from the environment (never baked into the image), then PgBouncer as `postgres`.
set -eu
printf '"%s" "%s"\n' "${PGBOUNCER_USER:?}" "${PGBOUNCER_PASSWORD:?}" > /etc/pgbouncer/userlist.txt
chown postgres /etc/pgbouncer/userlist.txt
chmod 600 /etc/pgbouncer/userlist.txt
# The PostgreSQL it pools for: the compose service `db` (pgbouncer.ini says `postgres`, which
# tests/processes.py replaces the same way).
sed -i "s/host=postgres port=5432/host=${PGBOUNCER_DB_HOST:-db} port=${PGBOUNCER_DB_PORT:-5432}/" \
    /etc/pgbouncer/pgbouncer.ini
sed -i "s/^admin_users = .*/admin_users = ${PGBOUNCER_USER}/; s/^stats_users = .*/stats_users = ${PGBOUNCER_USER}/" \
    /etc/pgbouncer/pgbouncer.ini
exec pgbouncer -u postgres /etc/pgbouncer/pgbouncer.ini
