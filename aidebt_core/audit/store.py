"""The audit store: immutable audit snapshots, their withdrawals and autosaved drafts in one
SQLite file.

SQLite in WAL mode with a busy timeout; every write is one `BEGIN IMMEDIATE` transaction, so
two browser tabs or processes saving at once both land and a crash loses at most the write
in flight. Saved audits cannot be changed or deleted (triggers refuse it); a wrong one is
withdrawn: kept, marked with who/when/why, and left out of the scorecard. A named reviewer's
sign-off (its own final table) makes an audit final: it can no longer be withdrawn, only
superseded by a new audit. Actions agreed in an audit are followed through the later audits of
the same model (each audit keeps the actions with the status agreed then). The file is
created by the first write (a saved audit or draft, an import, a withdrawal), never by
reading: a folder without a store reads as "no audits yet". A file that is not an aidebt
audit store is never written to.
"""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

from aidebt_core.audit.questions import AuditError
from aidebt_core.audit.records import (
    EXPORT_FORMAT,
    ActionCount,
    AuditRecord,
    CarriedOver,
    StoredAudits,
    TrackedAction,
    Withdrawal,
    action_counts,
    carried_over,
    export_document,
    record_from_dict,
)
from aidebt_core.audit.validate import check_audit
from aidebt_core.jsonsafe import jsonable

STORE_DIRNAME = ".aidebt"
STORE_FILENAME = "audits.sqlite"
STORE_ENV = "AIDEBT_AUDIT_STORE"
FORMAT_NAME = "aidebt-audit-store"
FORMAT_VERSION = 3            # 2 added withdrawals, 3 sign-offs; older stores are upgraded in
                              # place on their next write and stay readable before that
_WITHDRAWALS = (
    "CREATE TABLE IF NOT EXISTS withdrawals (audit_id TEXT PRIMARY KEY REFERENCES audits (id),"
    " withdrawn_by TEXT NOT NULL, withdrawn_at TEXT NOT NULL, reason TEXT NOT NULL)",
    "CREATE TRIGGER IF NOT EXISTS withdrawals_final_update BEFORE UPDATE ON withdrawals"
    " BEGIN SELECT RAISE(ABORT, 'withdrawals are final'); END",
    "CREATE TRIGGER IF NOT EXISTS withdrawals_final_delete BEFORE DELETE ON withdrawals"
    " BEGIN SELECT RAISE(ABORT, 'withdrawals are final'); END",
)
_SIGNOFFS = (
    "CREATE TABLE IF NOT EXISTS signoffs (audit_id TEXT PRIMARY KEY REFERENCES audits (id),"
    " signed_by TEXT NOT NULL, signed_at TEXT NOT NULL)",
    "CREATE TRIGGER IF NOT EXISTS signoffs_final_update BEFORE UPDATE ON signoffs"
    " BEGIN SELECT RAISE(ABORT, 'sign-offs are final'); END",
    "CREATE TRIGGER IF NOT EXISTS signoffs_final_delete BEFORE DELETE ON signoffs"
    " BEGIN SELECT RAISE(ABORT, 'sign-offs are final'); END",
)
_SCHEMA = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE audits (id TEXT PRIMARY KEY, model TEXT NOT NULL, model_version TEXT NOT NULL,"
    " audited_at TEXT NOT NULL, questionnaire_version TEXT NOT NULL, auditor TEXT NOT NULL,"
    " saved_at TEXT NOT NULL, payload TEXT NOT NULL)",
    "CREATE INDEX audits_by_model ON audits (model, audited_at)",
    "CREATE TRIGGER audits_immutable_update BEFORE UPDATE ON audits"
    " BEGIN SELECT RAISE(ABORT, 'saved audits are immutable'); END",
    "CREATE TRIGGER audits_immutable_delete BEFORE DELETE ON audits"
    " BEGIN SELECT RAISE(ABORT, 'saved audits are immutable'); END",
    "CREATE TABLE drafts (model TEXT PRIMARY KEY, updated_at TEXT NOT NULL, payload TEXT NOT NULL)",
    *_WITHDRAWALS,
    *_SIGNOFFS,
)
_MIN_ID_PREFIX = 6


class AuditStoreError(AuditError):
    """The audit store file cannot be opened, read or written."""


def workspace_store_path(workspace_folder: str | Path) -> Path:
    """Where a workspace keeps its audits: `<workspace>/.aidebt/audits.sqlite`."""
    return Path(workspace_folder) / STORE_DIRNAME / STORE_FILENAME


def default_store_path(workspace_folder: str | Path) -> Path:
    """$AIDEBT_AUDIT_STORE, else `<workspace>/.aidebt/audits.sqlite`.

    A workspace saved by an older aidebt keeps its audits in `<workspace>/audits.sqlite`; that
    file is used (not moved) while there is no store at the new place, so no history is lost.
    """
    env = os.environ.get(STORE_ENV)
    if env:
        return Path(env).expanduser().resolve()
    current = workspace_store_path(workspace_folder)
    legacy = Path(workspace_folder) / STORE_FILENAME
    if not current.exists() and legacy.is_file() and is_audit_store(legacy):
        return legacy
    return current


def is_audit_store(path: str | Path) -> bool:
    """True for an existing aidebt audit store (checked read-only)."""
    try:
        con = _read_only(Path(path))
        try:
            rows = dict(con.execute("SELECT key, value FROM meta").fetchall())
        finally:
            con.close()
    except (sqlite3.Error, OSError):
        return False
    return rows.get("format") == FORMAT_NAME


def saved_audits(path: str | Path) -> list[AuditRecord]:
    """The audits in the store at `path`, oldest first; [] (and no file created) when there is
    no store yet."""
    return AuditStore(path).list_audits()


def _now() -> str:
    # Microseconds: two saves of one day in the same second must still keep their order
    # (the history sorts by day, then save time), e.g. an audit and the one that supersedes it.
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _read_only(path: Path) -> sqlite3.Connection:
    # mode=ro: reading can never create the file (or anything else) where there is none.
    con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30,
                          isolation_level=None)
    con.execute("PRAGMA busy_timeout = 30000")
    return con


class AuditStore:
    """A handle on one store file; each call opens its own short-lived connection.

    Nothing is created until the first write; `create=True` creates the (empty) store now.
    """

    def __init__(self, path: str | Path, create: bool = False):
        self.path = Path(path).expanduser()
        if self.exists:
            self._check()
        elif create:
            self._initialise()

    @property
    def exists(self) -> bool:
        """A store with content. An empty file is a store another process is creating right
        now (connecting creates the file before the tables are committed): nothing in it yet."""
        try:
            return self.path.stat().st_size > 0
        except OSError:
            return False

    # -- connection handling ---------------------------------------------------------------
    def _connect(self, write: bool) -> sqlite3.Connection:
        try:
            if not write:
                return _read_only(self.path)
            con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            con.execute("PRAGMA busy_timeout = 30000")
            return con
        except sqlite3.Error as exc:
            raise AuditStoreError(f"Cannot open audit store '{self.path}': {exc}.") from exc

    @contextmanager
    def _transaction(self, write: bool) -> Iterator[sqlite3.Connection]:
        if write:
            # Always: creating is idempotent and serialised by the write lock, so a process
            # that finds a store half-created by another waits for it instead of failing.
            self._initialise()
            self._check()
        con = self._connect(write)
        try:
            con.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            if write:
                self._upgrade(con)
            yield con
            con.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise AuditStoreError(f"Audit store '{self.path}' failed: {exc}. Nothing was "
                                  "changed.") from exc
        except BaseException:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise
        finally:
            con.close()

    @staticmethod
    def _upgrade(con: sqlite3.Connection) -> None:
        """Bring an older store up to this format inside the write transaction (the audits
        themselves are untouched: new record fields live in the payload with defaults)."""
        version = con.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
        if version is not None and int(version[0]) < FORMAT_VERSION:
            for statement in (*_WITHDRAWALS, *_SIGNOFFS):
                con.execute(statement)
            con.execute("UPDATE meta SET value = ? WHERE key = 'version'", (str(FORMAT_VERSION),))

    def _initialise(self) -> None:
        """Create the tables in a new (empty) file; any other file is left for `_check`.

        Safe when several processes create the same store at once: the tables are created
        under the write lock, after checking again that nobody else has.
        """
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise AuditStoreError(f"Cannot create the folder of audit store '{self.path}': "
                                  f"{exc.strerror or exc}.") from exc
        con = self._connect(write=True)
        created = False
        try:
            try:
                if con.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                    return                      # has tables: ours or not, `_check` decides
            except sqlite3.DatabaseError:
                return                          # not a database: `_check` explains
            con.execute("BEGIN IMMEDIATE")
            if con.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0:
                for statement in _SCHEMA:
                    con.execute(statement)
                con.executemany("INSERT INTO meta VALUES (?, ?)",
                                [("format", FORMAT_NAME), ("version", str(FORMAT_VERSION)),
                                 ("created_at", _now())])
                created = True
            con.execute("COMMIT")
            if created:
                try:
                    con.execute("PRAGMA journal_mode = WAL")
                except sqlite3.OperationalError:
                    pass                        # busy: stays in rollback-journal mode, still safe
        except sqlite3.Error as exc:
            raise AuditStoreError(f"Cannot create audit store '{self.path}': {exc}.") from exc
        finally:
            con.close()

    def _check(self) -> None:
        """Refuse (without writing) a file that is not a readable aidebt audit store."""
        hint = (f"The file was left untouched; move it aside or set {STORE_ENV} (or --store) "
                "to another path.")
        try:
            con = self._connect(write=False)
            try:
                rows = dict(con.execute("SELECT key, value FROM meta").fetchall())
            finally:
                con.close()
        except sqlite3.DatabaseError as exc:
            raise AuditStoreError(f"'{self.path}' is not a readable aidebt audit store "
                                  f"({exc}). {hint}") from exc
        if rows.get("format") != FORMAT_NAME:
            raise AuditStoreError(f"'{self.path}' is an SQLite file but not an aidebt audit "
                                  f"store. {hint}")
        if int(rows.get("version", "0")) > FORMAT_VERSION:
            raise AuditStoreError(f"'{self.path}' was written by a newer aidebt (store format "
                                  f"{rows['version']}); upgrade aidebt to read it.")

    # -- audits ----------------------------------------------------------------------------
    def save_audit(self, record: AuditRecord) -> AuditRecord:
        """Save a new immutable snapshot; returns it with its id and save time filled in."""
        if not record.model.strip():
            raise AuditStoreError("An audit needs a model name.")
        if record.signed_by:
            raise AuditStoreError("A new audit cannot arrive signed; save it, then sign it "
                                  "off with sign_off().")
        if record.id and self.exists and any(r.id == record.id for r in self.list_audits()):
            old = self.get(record.id)
            what = (f"it was signed off by {old.signed_by} on {old.signed_at[:10]} and can "
                    "only be superseded by a new audit" if old.signed
                    else "saved audits cannot be overwritten")
            raise AuditStoreError(f"An audit with id '{record.id}' is already saved; {what}.")
        if record.supersedes:
            old = self.get(record.supersedes)
            if old.model != record.model:
                raise AuditStoreError(f"Audit {old.id} is about '{old.model}', not "
                                      f"'{record.model}'; it cannot be superseded by this one.")
        saved = replace(record, id=record.id or uuid.uuid4().hex, saved_at=record.saved_at
                        or _now(), withdrawn=None)
        check_audit(saved.to_dict(), f"audit of {saved.model}")
        with self._transaction(write=True) as con:
            try:
                _insert(con, saved, ignore=False)
            except sqlite3.IntegrityError as exc:
                raise AuditStoreError(f"An audit with id '{saved.id}' is already saved; saved "
                                      "audits cannot be overwritten.") from exc
            con.execute("DELETE FROM drafts WHERE model = ?", (saved.model,))
        return saved

    def read(self, model: str | None = None) -> StoredAudits:
        """Saved audits (oldest first), withdrawn ones marked; a record that does not match
        the audit schema is skipped with a line naming it instead of breaking the reader."""
        if not self.exists:
            return StoredAudits(())
        where, params = ("WHERE a.model = ?", (model,)) if model is not None else ("", ())
        return self._records(where, params)

    def _records(self, where: str = "", params: tuple = ()) -> StoredAudits:
        with self._transaction(write=False) as con:
            has_withdrawals = con.execute("SELECT count(*) FROM sqlite_master WHERE type = "
                                          "'table' AND name = 'withdrawals'").fetchone()[0]
            has_signoffs = con.execute("SELECT count(*) FROM sqlite_master WHERE type = "
                                       "'table' AND name = 'signoffs'").fetchone()[0]
            joined = ("LEFT JOIN withdrawals w ON w.audit_id = a.id" if has_withdrawals
                      else "LEFT JOIN (SELECT NULL AS audit_id, NULL AS withdrawn_by, NULL AS "
                           "withdrawn_at, NULL AS reason) w ON 0")
            joined += (" LEFT JOIN signoffs s ON s.audit_id = a.id" if has_signoffs
                       else " LEFT JOIN (SELECT NULL AS audit_id, NULL AS signed_by, NULL AS "
                            "signed_at) s ON 0")
            rows = con.execute(
                "SELECT a.id, a.model, a.model_version, a.audited_at, a.questionnaire_version,"
                " a.auditor, a.saved_at, a.payload, w.withdrawn_by, w.withdrawn_at, w.reason,"
                f" s.signed_by, s.signed_at FROM audits a {joined} {where}"
                " ORDER BY a.audited_at, a.saved_at, a.id", params).fetchall()
        records, skipped = [], []
        for row in rows:
            name = f"audit {row[0]} ({row[1]}, {str(row[3])[:40]})"
            try:
                payload = json.loads(row[7])
                if not isinstance(payload, dict):
                    raise ValueError("the payload is not an object")
                raw = {**payload, "id": row[0], "model": row[1], "model_version": row[2],
                       "audited_at": row[3], "questionnaire_version": row[4],
                       "auditor": row[5], "saved_at": row[6]}
                if row[8] is not None:
                    raw["withdrawn"] = {"by": row[8], "at": row[9], "reason": row[10]}
                if row[11] is not None:
                    raw["signed"] = {"by": row[11], "at": row[12]}
                records.append(record_from_dict(raw, where=name))
            except (ValueError, AuditError) as exc:
                detail = str(exc).removeprefix(f"{name}: ")
                skipped.append(f"Skipped {name} in '{self.path}': {detail}")
        return StoredAudits(tuple(records), tuple(skipped))

    def list_audits(self, model: str | None = None) -> list[AuditRecord]:
        """Saved audits (withdrawn ones included, marked), oldest first; only one model's when
        `model` is given. Records that do not match the schema are left out (see `read`)."""
        return list(self.read(model).records)

    def get(self, audit_id: str) -> AuditRecord:
        """The audit with this id (or a unique prefix of at least six characters)."""
        matches = [r for r in self.list_audits() if r.id == audit_id]
        if not matches and len(audit_id) >= _MIN_ID_PREFIX:
            matches = [r for r in self.list_audits() if r.id.startswith(audit_id)]
        if len(matches) != 1:
            what = "several audits" if matches else "no audit"
            raise AuditStoreError(f"There is {what} with id '{audit_id}' in '{self.path}'.")
        return matches[0]

    def models(self, recent_first: bool = False) -> list[str]:
        """Audited model names, alphabetically or by their latest audit (newest first)."""
        if not self.exists:
            return []
        order = "max(audited_at) DESC, model" if recent_first else "model"
        with self._transaction(write=False) as con:
            rows = con.execute(f"SELECT model FROM audits GROUP BY model ORDER BY {order}")
            return [r[0] for r in rows.fetchall()]

    def latest(self, model: str) -> AuditRecord | None:
        """The model's latest audit that counts (withdrawn and partial ones do not)."""
        audits = self.read(model).scored()
        return audits[-1] if audits else None

    def previous(self, record: AuditRecord) -> AuditRecord | None:
        """The counted (not withdrawn, not partial) audit of the same model saved just before
        `record` (None for the first)."""
        audits = self.read(record.model).scored()
        ids = [a.id for a in audits]
        if record.id in ids:
            index = ids.index(record.id)
            return audits[index - 1] if index > 0 else None
        return audits[-1] if audits else None

    def withdraw(self, audit_id: str, by: str, reason: str) -> AuditRecord:
        """Mark a saved audit withdrawn (who, now, why). It stays in the history; it no longer
        counts on the scorecard or in trends. A withdrawal is final."""
        by, reason = (by or "").strip(), (reason or "").strip()
        if not reason:
            raise AuditStoreError("Withdrawing an audit needs a reason.")
        if not by:
            raise AuditStoreError("Withdrawing an audit needs the name of who withdraws it.")
        if not self.exists:
            raise AuditStoreError(f"No audit store at '{self.path}' (nothing saved yet).")
        record = self.get(audit_id)
        if record.withdrawn is not None:
            raise AuditStoreError(f"Audit {record.id} was already withdrawn on "
                                  f"{record.withdrawn.at} by {record.withdrawn.by}.")
        if record.signed:
            raise AuditStoreError(f"Audit {record.id} was signed off by {record.signed_by} on "
                                  f"{record.signed_at[:10]}; a signed audit cannot be "
                                  "withdrawn, only superseded by a new audit.")
        withdrawal = Withdrawal(by=by, at=_now(), reason=reason)
        with self._transaction(write=True) as con:
            cur = con.execute("INSERT OR IGNORE INTO withdrawals VALUES (?, ?, ?, ?)",
                              (record.id, by, withdrawal.at, reason))
            if cur.rowcount == 0:
                raise AuditStoreError(f"Audit {record.id} was withdrawn meanwhile.")
        return replace(record, withdrawn=withdrawal)

    def sign_off(self, audit_id: str, by: str) -> AuditRecord:
        """A named reviewer signs the audit off (now, UTC): from then on it is final. It
        cannot be withdrawn or saved over, only superseded by a new audit; a sign-off is
        final too."""
        by = (by or "").strip()
        if not by:
            raise AuditStoreError("Signing off an audit needs the reviewer's name.")
        if not self.exists:
            raise AuditStoreError(f"No audit store at '{self.path}' (nothing saved yet).")
        record = self.get(audit_id)
        if record.withdrawn is not None:
            raise AuditStoreError(f"Audit {record.id} was withdrawn; it cannot be signed off.")
        if record.signed:
            raise AuditStoreError(f"Audit {record.id} was already signed off by "
                                  f"{record.signed_by} on {record.signed_at[:10]}.")
        at = _now()
        with self._transaction(write=True) as con:
            cur = con.execute("INSERT OR IGNORE INTO signoffs VALUES (?, ?, ?)",
                              (record.id, by, at))
            if cur.rowcount == 0:
                raise AuditStoreError(f"Audit {record.id} was signed off meanwhile.")
        return replace(record, signed_by=by, signed_at=at)

    def same_day(self, model: str, day: str | date) -> AuditRecord | None:
        """The model's latest audit (not withdrawn) dated `day`, if any: a second audit the
        same day should ask first."""
        day = day.isoformat() if isinstance(day, date) else str(day)
        same = [r for r in self.read(model).counted() if r.audited_at[:10] == day[:10]]
        return same[-1] if same else None

    def carried_over(self, model: str) -> CarriedOver | None:
        """Where a new audit of `model` starts: the last saved answers (per question, from the
        latest audit that answered it, partial ones included), last time's actions with their
        status, and the dates they come from. None before the first audit."""
        return carried_over(self.read(model).counted())

    def open_actions(self, model: str) -> tuple[TrackedAction, ...]:
        """The model's actions still open at its latest audit (withdrawn audits left out)."""
        carried = self.carried_over(model)
        return carried.open_actions if carried else ()

    def action_summary(self, today: date | None = None) -> dict[str, ActionCount]:
        """Model → (open, overdue) actions at its latest audit, for the scorecard."""
        return action_counts(self.read().counted(), today)

    # -- drafts ----------------------------------------------------------------------------
    def save_draft(self, model: str, payload: dict) -> None:
        """Autosave the work in progress for a model (one draft per model, last write wins)."""
        text = json.dumps(jsonable(payload), allow_nan=False, sort_keys=True)
        with self._transaction(write=True) as con:
            con.execute("INSERT INTO drafts VALUES (?, ?, ?) ON CONFLICT (model) DO UPDATE "
                        "SET updated_at = excluded.updated_at, payload = excluded.payload",
                        (model, _now(), text))

    def load_draft(self, model: str) -> dict | None:
        if not self.exists:
            return None
        with self._transaction(write=False) as con:
            row = con.execute("SELECT payload FROM drafts WHERE model = ?", (model,)).fetchone()
        if row is None:
            return None
        try:
            draft = json.loads(row[0])
        except json.JSONDecodeError:
            return None                         # a damaged draft is only lost work in progress
        return draft if isinstance(draft, dict) else None

    # -- export / import -------------------------------------------------------------------
    def export_json(self, model: str | None = None) -> dict:
        """All (or one model's) saved audits, withdrawn ones marked, as a JSON-safe document."""
        return export_document(self.list_audits(model))

    def import_text(self, text: str | bytes, origin: str = "import") -> tuple[int, int]:
        """`import_json` of a JSON document given as bytes or text (e.g. an uploaded file),
        parsed with the same size/depth limits as any user file."""
        from aidebt_core.safeload import DocumentError, parse_document

        try:
            document = parse_document(text, origin, json_only=True)
        except DocumentError as exc:
            raise AuditStoreError(f"{origin}: not a JSON document ({exc}).") from None
        return self.import_json(document, origin)

    def import_json(self, document: dict, origin: str = "import") -> tuple[int, int]:
        """Add the audits of an exported document; returns (added, already present).

        Every audit is checked against the schema (and the questionnaire's question ids)
        before anything is written; one bad audit adds none of them.
        """
        from aidebt_core.audit.questions import load_questionnaire

        if not isinstance(document, dict) or document.get("format") != EXPORT_FORMAT:
            raise AuditStoreError(f"{origin}: not an aidebt audit export (expected "
                                  f"\"format\": \"{EXPORT_FORMAT}\").")
        audits = document.get("audits")
        if audits is None:
            audits = []
        if not isinstance(audits, list):
            raise AuditStoreError(f"{origin}: 'audits' must be a list.")
        question_ids = frozenset(q.id for q in load_questionnaire().questions)
        records = [record_from_dict(raw, f"{origin}: audit #{i + 1}", question_ids)
                   for i, raw in enumerate(audits)]
        ids = [r.id for r in records if r.id]
        if len(ids) != len(set(ids)):
            duplicate = next(i for i in ids if ids.count(i) > 1)
            raise AuditStoreError(f"{origin}: audit id '{duplicate}' appears twice.")
        added = 0
        with self._transaction(write=True) as con:
            for rec in records:
                rec = replace(rec, id=rec.id or uuid.uuid4().hex, saved_at=rec.saved_at or _now())
                added += _insert(con, rec, ignore=True)
                if rec.withdrawn is not None:
                    w = rec.withdrawn
                    con.execute("INSERT OR IGNORE INTO withdrawals VALUES (?, ?, ?, ?)",
                                (rec.id, w.by, w.at, w.reason))
                if rec.signed_by:
                    con.execute("INSERT OR IGNORE INTO signoffs VALUES (?, ?, ?)",
                                (rec.id, rec.signed_by, rec.signed_at))
        return added, len(records) - added

    def write_export(self, target: str | Path, force: bool = False,
                     model: str | None = None) -> int:
        """Write the export document to `target`; the number of audits written.

        Refuses the store itself (whatever path or symlink names it) and, without `force`,
        any existing file.
        """
        target = Path(target).expanduser()
        if _same_file(target, self.path):
            raise AuditStoreError(f"--export '{target}' is the audit store itself; choose "
                                  "another file.")
        if target.is_dir():
            raise AuditStoreError(f"--export '{target}' is a folder; give a file name.")
        if target.exists() and not force:
            raise AuditStoreError(f"--export '{target}' exists; use --force to replace it.")
        document = self.export_json(model)
        text = json.dumps(document, indent=2, allow_nan=False) + "\n"
        tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, target)
        except OSError as exc:
            raise AuditStoreError(f"Cannot write '{target}': {exc.strerror or exc}.") from exc
        finally:
            tmp.unlink(missing_ok=True)
        return len(document["audits"])


def _same_file(a: Path, b: Path) -> bool:
    """True when `a` and `b` name the same file (after resolving symlinks and `..`)."""
    if a.resolve() == b.resolve():
        return True
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _insert(con: sqlite3.Connection, rec: AuditRecord, ignore: bool) -> int:
    cur = con.execute(
        f"INSERT {'OR IGNORE ' if ignore else ''}INTO audits VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (rec.id, rec.model, rec.model_version, rec.audited_at, rec.questionnaire_version,
         rec.auditor, rec.saved_at, json.dumps(rec.payload(), allow_nan=False, sort_keys=True)))
    return cur.rowcount
