"""A new tenant's schema made from the template schema's stored DDL, at a cost that stays flat
however many schemas the database holds.

django-tenants' `clone_schema()` SQL function reads `information_schema` once per column (and
per table); those views cannot use the catalog's indexes, so every probe scans the catalog rows
of *every* schema and a clone grew with the number of tenants (measured: 0.17 s at 10 tenants,
0.48 s at 60, ~8 s near 100 in the issue's figures). Here the template's DDL is read once from
`pg_catalog` (lookups by namespace and relation oid) and kept per process, keyed by the
template's migration state; a signup replays it in one round trip. See docs/scaling.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection
from psycopg import sql


class TemplateNotClonable(RuntimeError):
    """The template holds an object kind this clone does not reproduce."""


@dataclass(frozen=True)
class TemplateDDL:
    fingerprint: tuple
    statements: tuple[str, ...]


_cache: dict[str, TemplateDDL] = {}


def _fingerprint(cursor, template: str) -> tuple:
    # The template changes through `migrate` only: its django_migrations rows say which
    # version it is; the namespace oid changes if the template is dropped and re-created.
    cursor.execute(
        sql.SQL(
            "SELECT %s::regnamespace::oid, count(*), coalesce(max(id), 0), max(applied) "
            "FROM {}.django_migrations"
        ).format(sql.Identifier(template)),
        [template],
    )
    return tuple(cursor.fetchone())


def _refuse_unsupported(cursor, template: str) -> None:
    cursor.execute(
        """
        SELECT 'relation ' || relname || ' of kind ' || relkind::text FROM pg_class
         WHERE relnamespace = %(ns)s::regnamespace AND relkind NOT IN ('r', 'i', 'S')
        UNION ALL
        SELECT 'function ' || proname FROM pg_proc WHERE pronamespace = %(ns)s::regnamespace
        UNION ALL
        SELECT 'type ' || typname FROM pg_type
         WHERE typnamespace = %(ns)s::regnamespace AND typtype NOT IN ('b', 'c')
        UNION ALL
        SELECT 'policy ' || polname FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
         WHERE c.relnamespace = %(ns)s::regnamespace
        UNION ALL
        SELECT 'inherited table ' || c.relname FROM pg_inherits i
          JOIN pg_class c ON c.oid = i.inhrelid WHERE c.relnamespace = %(ns)s::regnamespace
        """,
        {"ns": template},
    )
    found = [row[0] for row in cursor.fetchall()]
    if found:
        raise TemplateNotClonable(
            f"The template schema {template} holds objects the clone does not copy: "
            + ", ".join(found)
        )


def _read_ddl(cursor, template: str) -> tuple[str, ...]:
    """The template's DDL with its own objects unqualified (search_path is the template alone,
    so names from public come out qualified), in an order that replays: standalone sequences,
    tables, constraints other than foreign keys, indexes, foreign keys, triggers, comments."""
    _refuse_unsupported(cursor, template)
    ns = {"ns": template}
    statements: list[str] = []
    # Sequences not owned by an identity column (identity sequences come with their column).
    cursor.execute(
        """
        SELECT quote_ident(c.relname), s.seqtypid::regtype::text, s.seqstart, s.seqincrement,
               s.seqmin, s.seqmax, s.seqcache, s.seqcycle
          FROM pg_class c JOIN pg_sequence s ON s.seqrelid = c.oid
         WHERE c.relnamespace = %(ns)s::regnamespace AND c.relkind = 'S'
           AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                           AND d.objid = c.oid AND d.deptype = 'i')
         ORDER BY c.relname
        """,
        ns,
    )
    for name, type_, start, increment, minimum, maximum, cache, cycle in cursor.fetchall():
        statements.append(
            f"CREATE SEQUENCE {name} AS {type_} INCREMENT BY {increment} MINVALUE {minimum} "
            f"MAXVALUE {maximum} START WITH {start} CACHE {cache}{' CYCLE' if cycle else ''}"
        )
    cursor.execute(
        """
        SELECT c.oid, quote_ident(c.relname), c.relpersistence,
               quote_ident(a.attname), format_type(a.atttypid, a.atttypmod), a.attnotnull,
               pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated,
               CASE WHEN a.attcollation <> t.typcollation AND a.attcollation <> 0
                    THEN a.attcollation::regcollation::text END,
               seq.seqstart, seq.seqincrement, seq.seqmin, seq.seqmax, seq.seqcache, seq.seqcycle
          FROM pg_class c
          JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
          JOIN pg_type t ON t.oid = a.atttypid
          LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
          LEFT JOIN pg_sequence seq
            ON a.attidentity <> '' AND seq.seqrelid = pg_get_serial_sequence(
                 quote_ident(%(ns)s) || '.' || quote_ident(c.relname), a.attname)::regclass
         WHERE c.relnamespace = %(ns)s::regnamespace AND c.relkind = 'r'
         ORDER BY c.relname, a.attnum
        """,
        ns,
    )
    tables: dict[int, tuple[str, str, list[str]]] = {}
    for row in cursor.fetchall():
        oid, table, persistence, column, type_, not_null, default, identity, generated = row[:9]
        collation, start, increment, minimum, maximum, cache, cycle = row[9:]
        definition = f"{column} {type_}"
        if collation:
            definition += f" COLLATE {collation}"
        if generated == "s":
            definition += f" GENERATED ALWAYS AS ({default}) STORED"
        elif default is not None:
            definition += f" DEFAULT {default}"
        if identity:
            kind = "ALWAYS" if identity == "a" else "BY DEFAULT"
            definition += (
                f" GENERATED {kind} AS IDENTITY (INCREMENT BY {increment} MINVALUE {minimum} "
                f"MAXVALUE {maximum} START WITH {start} CACHE {cache}"
                f"{' CYCLE' if cycle else ''})"
            )
        if not_null:
            definition += " NOT NULL"
        tables.setdefault(oid, (table, persistence, []))[2].append(definition)
    for table, persistence, columns in tables.values():
        unlogged = "UNLOGGED " if persistence == "u" else ""
        statements.append(f"CREATE {unlogged}TABLE {table} ({', '.join(columns)})")
    cursor.execute(
        """
        SELECT quote_ident(s.relname), quote_ident(t.relname), quote_ident(c.attname)
          FROM pg_depend d JOIN pg_class s ON s.oid = d.objid JOIN pg_class t ON t.oid = d.refobjid
          JOIN pg_attribute c ON c.attrelid = t.oid AND c.attnum = d.refobjsubid
         WHERE d.classid = 'pg_class'::regclass AND d.deptype = 'a' AND s.relkind = 'S'
           AND s.relnamespace = %(ns)s::regnamespace
        """,
        ns,
    )
    for sequence, table, column in cursor.fetchall():
        statements.append(f"ALTER SEQUENCE {sequence} OWNED BY {table}.{column}")
    cursor.execute(
        """
        SELECT quote_ident(r.relname), quote_ident(k.conname), pg_get_constraintdef(k.oid),
               k.contype
          FROM pg_constraint k JOIN pg_class r ON r.oid = k.conrelid
         WHERE k.connamespace = %(ns)s::regnamespace
         ORDER BY k.contype = 'f', r.relname, k.conname
        """,
        ns,
    )
    foreign_keys: list[str] = []
    for table, name, definition, kind in cursor.fetchall():
        statement = f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}"
        (foreign_keys if kind == "f" else statements).append(statement)
    # pg_get_indexdef always qualifies the table: it is pointed at the search path instead.
    qualified = f" ON {_quote(cursor, template)}."
    # Indexes that no constraint owns (those above create their own; a foreign key only
    # points at the unique index it relies on).
    cursor.execute(
        """
        SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i
          JOIN pg_class c ON c.oid = i.indexrelid
         WHERE c.relnamespace = %(ns)s::regnamespace
           AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid
                           AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u', 'x'))
         ORDER BY c.relname
        """,
        ns,
    )
    for (definition,) in cursor.fetchall():
        if qualified not in definition:
            raise TemplateNotClonable(f"Unexpected index definition: {definition}")
        statements.append(definition.replace(qualified, " ON ", 1))
    statements.extend(foreign_keys)
    # Triggers (insights' aggregates): their functions live outside the template (a function of
    # the template itself is refused above), the table is unqualified like the indexes'.
    cursor.execute(
        """
        SELECT pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
         WHERE c.relnamespace = %(ns)s::regnamespace AND NOT t.tgisinternal
         ORDER BY c.relname, t.tgname
        """,
        ns,
    )
    for (definition,) in cursor.fetchall():
        statements.append(definition.replace(qualified, " ON ", 1))
    cursor.execute(
        """
        SELECT quote_ident(c.relname), a.attname, quote_literal(obj.description),
               obj.objsubid = 0, quote_ident(a.attname)
          FROM pg_description obj JOIN pg_class c ON c.oid = obj.objoid
          LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = obj.objsubid
         WHERE obj.classoid = 'pg_class'::regclass AND c.relnamespace = %(ns)s::regnamespace
        """,
        ns,
    )
    for table, _column, text, on_table, column in cursor.fetchall():
        target = f"TABLE {table}" if on_table else f"COLUMN {table}.{column}"
        statements.append(f"COMMENT ON {target} IS {text}")
    return tuple(statements)


def _quote(cursor, name: str) -> str:
    cursor.execute("SELECT quote_ident(%s)", [name])
    return cursor.fetchone()[0]


def _with_search_path(cursor, schema: str, action):
    """Run `action()` with search_path set to `schema` alone, then put the previous one back
    (the previous value, not `public`: django-tenants may be tracking what it set). On an
    error the transaction is aborted, and its rollback undoes the SET as well."""
    cursor.execute("SELECT current_setting('search_path')")
    previous = cursor.fetchone()[0]
    cursor.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
    result = action()
    cursor.execute("SELECT set_config('search_path', %s, false)", [previous])
    return result


def template_ddl(template: str) -> TemplateDDL:
    """The template's DDL, read again only when the template's migration state changed."""
    with connection.cursor() as cursor:
        fingerprint = _fingerprint(cursor, template)
        cached = _cache.get(template)
        if cached is not None and cached.fingerprint == fingerprint:
            return cached
        statements = _with_search_path(cursor, template, lambda: _read_ddl(cursor, template))
    ddl = TemplateDDL(fingerprint=fingerprint, statements=statements)
    _cache[template] = ddl
    return ddl


def schema_clone(*, template: str, schema_name: str) -> None:
    """Create `schema_name` with the template's tables, constraints and indexes (no rows) and
    the template's migration records, in the caller's transaction."""
    ddl = template_ddl(template)
    script = ";\n".join(ddl.statements)
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema_name)))
        _with_search_path(cursor, schema_name, lambda: cursor.execute(script))
        cursor.execute(
            sql.SQL(
                "INSERT INTO {}.django_migrations (app, name, applied) "
                "SELECT app, name, now() FROM {}.django_migrations ORDER BY id"
            ).format(sql.Identifier(schema_name), sql.Identifier(template))
        )
