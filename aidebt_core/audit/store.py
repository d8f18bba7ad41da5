"""The audit store: immutable audit snapshots and autosaved drafts in one SQLite file.

SQLite in WAL mode with a busy timeout; every write is one `BEGIN IMMEDIATE` transaction, so
two browser tabs or processes saving at once both land and a crash loses at most the write
in flight. Saved audits cannot be changed or deleted (triggers refuse it). A file that is not
an aidebt audit store is never written to.
"""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from aidebt_core.audit.questions import Answer, AuditError, parse_level
from aidebt_core.jsonsafe import jsonable

STORE_FILENAME = "audits.sqlite"
STORE_ENV = "AIDEBT_AUDIT_STORE"
FORMAT_NAME = "aidebt-audit-store"
FORMAT_VERSION = 1
EXPORT_FORMAT = "aidebt-audits"
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
)


class AuditStoreError(AuditError):
    """The audit store file cannot be opened, read or written."""


@dataclass(frozen=True)
class AuditRecord:
    """One saved audit: who audited which model version when, the answers, findings and scores.

    `scores` is the score summary computed at save time, kept so the snapshot stays what the
    meeting agreed even if the scoring code changes later.
    """

    model: str
    model_version: str
    audited_at: str
    questionnaire_version: str
    auditor: str
    answers: dict[str, Answer]
    findings: list[dict] = field(default_factory=list)
    scores: dict = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    id: str = ""
    saved_at: str = ""

    def payload(self) -> dict:
        return jsonable({"answers": {k: a.to_dict() for k, a in self.answers.items()},
                         "findings": self.findings, "scores": self.scores,
                         "notes": self.notes})

    def to_dict(self) -> dict:
        return {"id": self.id, "model": self.model, "model_version": self.model_version,
                "audited_at": self.audited_at,
                "questionnaire_version": self.questionnaire_version, "auditor": self.auditor,
                "saved_at": self.saved_at, **self.payload()}


def answers_from_dict(raw: dict, where: str = "audit") -> dict[str, Answer]:
    """Answers as stored (`Answer.to_dict()` per question) back into `Answer`s."""
    out = {}
    for qid, item in raw.items():
        level, na = parse_level(item.get("level"), f"{where}: answer '{qid}'")
        measured = item.get("measured_level")
        out[str(qid)] = Answer(level=level, na=na, evidence=item.get("evidence") or "",
                               note=item.get("note") or "", source=item.get("source") or "manual",
                               measured_level=None if measured is None else int(measured),
                               evidence_date=item.get("evidence_date"),
                               link=item.get("link") or "")
    return out


def record_from_dict(raw: dict, where: str = "audit") -> AuditRecord:
    """An `AuditRecord` from its `to_dict()` form (used by import and by the store)."""
    missing = [k for k in ("model", "audited_at", "questionnaire_version", "answers")
               if k not in raw]
    if missing:
        raise AuditStoreError(f"{where}: missing {', '.join(missing)}.")
    return AuditRecord(model=str(raw["model"]), model_version=str(raw.get("model_version", "")),
                       audited_at=str(raw["audited_at"]),
                       questionnaire_version=str(raw["questionnaire_version"]),
                       auditor=str(raw.get("auditor", "")),
                       answers=answers_from_dict(raw["answers"], where),
                       findings=list(raw.get("findings") or []),
                       scores=dict(raw.get("scores") or {}), notes=dict(raw.get("notes") or {}),
                       id=str(raw.get("id") or ""), saved_at=str(raw.get("saved_at") or ""))


def default_store_path(workspace_folder: str | Path) -> Path:
    """$AIDEBT_AUDIT_STORE, else `audits.sqlite` in the workspace folder."""
    env = os.environ.get(STORE_ENV)
    return Path(env).expanduser().resolve() if env else Path(workspace_folder) / STORE_FILENAME


def export_document(records: list[AuditRecord]) -> dict:
    """Audits as the JSON export document that `AuditStore.import_json` reads."""
    return {"format": EXPORT_FORMAT, "version": FORMAT_VERSION,
            "audits": [r.to_dict() for r in records]}


def saved_audits(path: str | Path) -> list[AuditRecord]:
    """The audits in the store at `path`, oldest first; [] (and no file created) when there is
    no store yet."""
    path = Path(path).expanduser()
    if not path.exists():
        return []
    return AuditStore(path, create=False).list_audits()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class AuditStore:
    """A handle on one store file; each call opens its own short-lived connection."""

    def __init__(self, path: str | Path, create: bool = True):
        self.path = Path(path).expanduser()
        if not self.path.exists() and not create:
            raise AuditStoreError(f"No audit store at '{self.path}'.")
        if create:
            self._initialise()
        self._check()

    # -- connection handling ---------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        try:
            con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            con.execute("PRAGMA busy_timeout = 30000")
            return con
        except sqlite3.Error as exc:
            raise AuditStoreError(f"Cannot open audit store '{self.path}': {exc}.") from exc

    @contextmanager
    def _transaction(self, write: bool) -> Iterator[sqlite3.Connection]:
        con = self._connect()
        try:
            con.execute("BEGIN IMMEDIATE" if write else "BEGIN")
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

    def _initialise(self) -> None:
        """Create the tables in a new (empty) file; any other file is left for `_check`.

        Safe when several processes create the same store at once: the tables are created
        under the write lock, after checking again that nobody else has.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = self._connect()
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
        hint = (f"The file was left untouched; move it aside or set {STORE_ENV} to another "
                "path.")
        con = self._connect()
        try:
            rows = dict(con.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.DatabaseError as exc:
            raise AuditStoreError(f"'{self.path}' is not a readable aidebt audit store "
                                  f"({exc}). {hint}") from exc
        finally:
            con.close()
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
        saved = replace(record, id=record.id or uuid.uuid4().hex, saved_at=record.saved_at
                        or _now())
        with self._transaction(write=True) as con:
            try:
                con.execute("INSERT INTO audits VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            (saved.id, saved.model, saved.model_version, saved.audited_at,
                             saved.questionnaire_version, saved.auditor, saved.saved_at,
                             json.dumps(saved.payload(), allow_nan=False, sort_keys=True)))
            except sqlite3.IntegrityError as exc:
                raise AuditStoreError(f"An audit with id '{saved.id}' is already saved; saved "
                                      "audits cannot be overwritten.") from exc
            con.execute("DELETE FROM drafts WHERE model = ?", (saved.model,))
        return saved

    def _records(self, where: str = "", params: tuple = ()) -> list[AuditRecord]:
        with self._transaction(write=False) as con:
            rows = con.execute(
                "SELECT id, model, model_version, audited_at, questionnaire_version, auditor, "
                f"saved_at, payload FROM audits {where} ORDER BY audited_at, saved_at, id",
                params).fetchall()
        out = []
        for row in rows:
            try:
                payload = json.loads(row[7])
            except json.JSONDecodeError as exc:
                raise AuditStoreError(f"Audit '{row[0]}' in '{self.path}' is damaged: "
                                      f"{exc}.") from exc
            out.append(record_from_dict(
                {"id": row[0], "model": row[1], "model_version": row[2], "audited_at": row[3],
                 "questionnaire_version": row[4], "auditor": row[5], "saved_at": row[6],
                 **payload}, where=f"audit {row[0]}"))
        return out

    def list_audits(self, model: str | None = None) -> list[AuditRecord]:
        """Saved audits, oldest first; only one model's when `model` is given."""
        if model is None:
            return self._records()
        return self._records("WHERE model = ?", (model,))

    def get(self, audit_id: str) -> AuditRecord:
        found = self._records("WHERE id = ?", (audit_id,))
        if not found:
            raise AuditStoreError(f"No audit with id '{audit_id}' in '{self.path}'.")
        return found[0]

    def models(self, recent_first: bool = False) -> list[str]:
        """Audited model names, alphabetically or by their latest audit (newest first)."""
        order = "max(audited_at) DESC, model" if recent_first else "model"
        with self._transaction(write=False) as con:
            rows = con.execute(f"SELECT model FROM audits GROUP BY model ORDER BY {order}")
            return [r[0] for r in rows.fetchall()]

    def latest(self, model: str) -> AuditRecord | None:
        audits = self.list_audits(model)
        return audits[-1] if audits else None

    def previous(self, record: AuditRecord) -> AuditRecord | None:
        """The audit of the same model saved just before `record` (None for the first)."""
        audits = self.list_audits(record.model)
        ids = [a.id for a in audits]
        if record.id in ids:
            index = ids.index(record.id)
            return audits[index - 1] if index > 0 else None
        return audits[-1] if audits else None

    # -- drafts ----------------------------------------------------------------------------
    def save_draft(self, model: str, payload: dict) -> None:
        """Autosave the work in progress for a model (one draft per model, last write wins)."""
        text = json.dumps(jsonable(payload), allow_nan=False, sort_keys=True)
        with self._transaction(write=True) as con:
            con.execute("INSERT INTO drafts VALUES (?, ?, ?) ON CONFLICT (model) DO UPDATE "
                        "SET updated_at = excluded.updated_at, payload = excluded.payload",
                        (model, _now(), text))

    def load_draft(self, model: str) -> dict | None:
        with self._transaction(write=False) as con:
            row = con.execute("SELECT payload FROM drafts WHERE model = ?", (model,)).fetchone()
        return None if row is None else json.loads(row[0])

    def delete_draft(self, model: str) -> None:
        with self._transaction(write=True) as con:
            con.execute("DELETE FROM drafts WHERE model = ?", (model,))

    # -- export / import -------------------------------------------------------------------
    def export_json(self, model: str | None = None) -> dict:
        """All (or one model's) saved audits as a JSON-safe document."""
        return export_document(self.list_audits(model))

    def import_text(self, text: str | bytes, origin: str = "import") -> tuple[int, int]:
        """`import_json` of a JSON document given as text (e.g. an uploaded file)."""
        try:
            document = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise AuditStoreError(f"{origin}: not a JSON document ({exc}).") from exc
        return self.import_json(document, origin)

    def import_json(self, document: dict, origin: str = "import") -> tuple[int, int]:
        """Add the audits of an exported document; returns (added, already present).

        All-or-nothing: one bad audit in the document adds none of them.
        """
        if not isinstance(document, dict) or document.get("format") != EXPORT_FORMAT:
            raise AuditStoreError(f"{origin}: not an aidebt audit export (expected "
                                  f"\"format\": \"{EXPORT_FORMAT}\").")
        records = [record_from_dict(raw, f"{origin}: audit #{i + 1}")
                   for i, raw in enumerate(document.get("audits") or [])]
        added = 0
        with self._transaction(write=True) as con:
            for rec in records:
                rec = replace(rec, id=rec.id or uuid.uuid4().hex, saved_at=rec.saved_at or _now())
                cur = con.execute(
                    "INSERT OR IGNORE INTO audits VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (rec.id, rec.model, rec.model_version, rec.audited_at,
                     rec.questionnaire_version, rec.auditor, rec.saved_at,
                     json.dumps(rec.payload(), allow_nan=False, sort_keys=True)))
                added += cur.rowcount
        return added, len(records) - added
