#!/bin/sh
# The auth file from the environment (never baked into the image), then PgBouncer as `postgres`.
set -eu
printf '"%s" "%s"\n' "${PGBOUNCER_USER:?}" "${PGBOUNCER_PASSWORD:?}" > /etc/pgbouncer/userlist.txt
chown postgres /etc/pgbouncer/userlist.txt
chmod 600 /etc/pgbouncer/userlist.txt
sed -i "s/^admin_users = .*/admin_users = ${PGBOUNCER_USER}/; s/^stats_users = .*/stats_users = ${PGBOUNCER_USER}/" \
    /etc/pgbouncer/pgbouncer.ini
exec pgbouncer -u postgres /etc/pgbouncer/pgbouncer.ini
