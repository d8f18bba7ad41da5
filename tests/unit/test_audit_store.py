"""The audit store: round trip, immutability, drafts, export/import, concurrent saves, and
refusing (without touching) a file that is not an aidebt store."""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
import threading

import pytest

from aidebt_core.audit.questions import Answer, AuditError
from aidebt_core.audit.records import AuditRecord
from aidebt_core.audit.store import AuditStore, AuditStoreError, saved_audits


def _record(model="m", day="2025-01-01", level=2, **kw) -> AuditRecord:
    return AuditRecord(model=model, model_version="1", audited_at=day,
                       questionnaire_version="2026.1", auditor="team",
                       answers={"D1": Answer(level=level, evidence="https://x", note="n"),
                                "M8": Answer(level=None, na=True, note="no loop")},
                       findings=[{"question": "D3", "severity": "high", "title": "drift"}],
                       scores={"overall": 4.5, "dimensions": {"data": 4.5}}, **kw)


def test_round_trip(tmp_path):
    store = AuditStore(tmp_path / "a.sqlite")
    saved = store.save_audit(_record())
    assert saved.id and saved.saved_at
    again = AuditStore(tmp_path / "a.sqlite").get(saved.id)
    assert again == saved
    assert again.answers["M8"].na and again.answers["D1"].level == 2
    assert store.models() == ["m"]


def test_history_order_latest_and_previous(tmp_path):
    store = AuditStore(tmp_path / "a.sqlite")
    late = store.save_audit(_record(day="2025-06-01"))
    early = store.save_audit(_record(day="2025-01-01"))
    other = store.save_audit(_record(model="other", day="2025-09-01"))
    assert [r.id for r in store.list_audits("m")] == [early.id, late.id]
    assert store.latest("m").id == late.id
    assert store.previous(late).id == early.id and store.previous(early) is None
    assert len(store.list_audits()) == 3 and other.id in {r.id for r in store.list_audits()}
    assert store.models() == ["m", "other"]
    assert store.models(recent_first=True) == ["other", "m"]


def test_saved_audits_are_immutable(tmp_path):
    path = tmp_path / "a.sqlite"
    store = AuditStore(path)
    saved = store.save_audit(_record())
    with pytest.raises(AuditStoreError, match="cannot be overwritten"):
        store.save_audit(saved)
    con = sqlite3.connect(path)
    with pytest.raises(sqlite3.DatabaseError, match="immutable"):
        con.execute("UPDATE audits SET model = 'x'")
    with pytest.raises(sqlite3.DatabaseError, match="immutable"):
        con.execute("DELETE FROM audits")
    con.close()
    assert store.get(saved.id).model == "m"


def test_drafts_autosave_and_clear_on_save(tmp_path):
    store = AuditStore(tmp_path / "a.sqlite")
    assert store.load_draft("m") is None
    store.save_draft("m", {"inputs": {"D1": {"choice": "2"}}})
    store.save_draft("m", {"inputs": {"D1": {"choice": "3"}}})
    assert store.load_draft("m") == {"inputs": {"D1": {"choice": "3"}}}
    store.save_audit(_record())
    assert store.load_draft("m") is None


def test_export_import(tmp_path):
    a = AuditStore(tmp_path / "a.sqlite")
    first = a.save_audit(_record())
    a.save_audit(_record(model="n"))
    document = a.export_json()
    b = AuditStore(tmp_path / "b.sqlite")
    assert b.import_json(document) == (2, 0)
    assert b.import_json(document) == (0, 2)      # ids kept: importing twice adds nothing
    assert b.get(first.id) == first
    broken = {"format": "aidebt-audits", "audits": [document["audits"][0], {"model": "x"}]}
    c = AuditStore(tmp_path / "c.sqlite")
    with pytest.raises(AuditError, match="audit #2: field 'audited_at': missing"):
        c.import_json(broken)
    assert c.list_audits() == []                    # all or nothing
    with pytest.raises(AuditStoreError, match="not an aidebt audit export"):
        c.import_json({"audits": []})


def _save_many(path: str, worker: int, count: int) -> None:
    store = AuditStore(path)
    for i in range(count):
        store.save_audit(_record(model=f"model-{worker}", day=f"2025-01-{i % 28 + 1:02d}"))
        store.save_draft(f"model-{worker}", {"i": i})


def test_concurrent_saves_lose_nothing(tmp_path):
    path = str(tmp_path / "a.sqlite")
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_save_many, args=(path, w, 15)) for w in range(3)]
    threads = [threading.Thread(target=_save_many, args=(path, 10 + w, 15)) for w in range(2)]
    for p in procs:
        p.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    store = AuditStore(path)
    audits = store.list_audits()
    assert len(audits) == 5 * 15
    assert len({a.id for a in audits}) == 75
    assert {a.model for a in audits} == {f"model-{w}" for w in (0, 1, 2, 10, 11)}


def test_concurrent_creation_of_a_new_store(tmp_path):
    path = str(tmp_path / "new.sqlite")
    threads = [threading.Thread(target=_save_many, args=(path, w, 3)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(AuditStore(path).list_audits()) == 12


def test_corrupt_file_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "audits.sqlite"
    junk = b"this is not a database " * 500
    path.write_bytes(junk)
    with pytest.raises(AuditStoreError, match="not a readable aidebt audit store") as err:
        AuditStore(path)
    assert str(path) in str(err.value)
    assert path.read_bytes() == junk
    assert saved_audits(tmp_path / "missing.sqlite") == []
    assert not (tmp_path / "missing.sqlite").exists()


def test_damaged_store_keeps_its_good_data(tmp_path):
    path = tmp_path / "audits.sqlite"
    store = AuditStore(path)
    good = store.save_audit(_record())
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    data = bytearray(path.read_bytes())
    data[:16] = b"garbage-header!!"           # the SQLite magic string is gone
    path.write_bytes(bytes(data))
    damaged = path.read_bytes()
    with pytest.raises(AuditStoreError, match="not a readable"):
        AuditStore(path).save_audit(_record(model="new"))
    assert path.read_bytes() == damaged        # nothing was written over it
    data[:16] = b"SQLite format 3\x00"         # repairing the header recovers the audit
    path.write_bytes(bytes(data))
    assert AuditStore(path).get(good.id) == good


def test_other_sqlite_file_is_refused(tmp_path):
    path = tmp_path / "mlflow.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE meta (key TEXT, value TEXT)")
    con.commit()
    con.close()
    with pytest.raises(AuditStoreError, match="SQLite file but not an aidebt audit store"):
        AuditStore(path)
    con = sqlite3.connect(path)
    tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    con.close()
    assert tables == ["meta"]


def test_model_name_required(tmp_path):
    with pytest.raises(AuditStoreError, match="needs a model name"):
        AuditStore(tmp_path / "a.sqlite").save_audit(_record(model="  "))


def test_import_text(tmp_path):
    a = AuditStore(tmp_path / "a.sqlite")
    saved = a.save_audit(_record())
    b = AuditStore(tmp_path / "b.sqlite")
    assert b.import_text(json.dumps(a.export_json()).encode(), "up.json") == (1, 0)
    assert b.get(saved.id) == saved
    with pytest.raises(AuditStoreError, match="up.json: not a JSON document"):
        b.import_text(b"{nope", "up.json")


# -- created by the first write only -------------------------------------------------------
def test_reading_creates_nothing(tmp_path):
    path = tmp_path / "ws" / ".aidebt" / "audits.sqlite"
    store = AuditStore(path)
    assert store.list_audits() == [] and store.models() == [] and store.latest("m") is None
    assert store.load_draft("m") is None and store.read().skipped == ()
    with pytest.raises(AuditStoreError, match="no audit with id 'abc'"):
        store.get("abc")
    assert store.export_json()["audits"] == []
    assert not (tmp_path / "ws").exists()                  # not even the folder
    store.save_draft("m", {"inputs": {}})                   # a draft is a save: now it exists
    assert path.is_file() and store.load_draft("m") == {"inputs": {}}


def test_default_location_legacy_file_and_environment(tmp_path, monkeypatch):
    from aidebt_core.audit.store import STORE_ENV, default_store_path, workspace_store_path

    monkeypatch.delenv(STORE_ENV, raising=False)
    assert default_store_path(tmp_path) == tmp_path / ".aidebt" / "audits.sqlite"
    assert workspace_store_path(tmp_path) == default_store_path(tmp_path)
    (tmp_path / "audits.sqlite").write_text("a user's own file, not ours")
    assert default_store_path(tmp_path) == tmp_path / ".aidebt" / "audits.sqlite"
    (tmp_path / "audits.sqlite").unlink()
    legacy = AuditStore(tmp_path / "audits.sqlite")         # written by an older aidebt
    legacy.save_audit(_record())
    assert default_store_path(tmp_path) == tmp_path / "audits.sqlite"
    AuditStore(workspace_store_path(tmp_path)).save_audit(_record(model="new"))
    assert default_store_path(tmp_path) == workspace_store_path(tmp_path)   # new place wins
    monkeypatch.setenv(STORE_ENV, str(tmp_path / "elsewhere.sqlite"))
    assert default_store_path(tmp_path) == tmp_path / "elsewhere.sqlite"


# -- withdrawals ---------------------------------------------------------------------------
def test_withdrawn_audit_stays_marked_and_stops_counting(tmp_path):
    store = AuditStore(tmp_path / "a.sqlite")
    early = store.save_audit(_record(day="2025-01-01"))
    late = store.save_audit(_record(day="2025-06-01"))
    with pytest.raises(AuditStoreError, match="needs a reason"):
        store.withdraw(late.id, by="ann", reason="  ")
    withdrawn = store.withdraw(late.id[:8], by="ann", reason="scored on the wrong data")
    assert withdrawn.id == late.id and withdrawn.withdrawn.by == "ann"
    assert withdrawn.withdrawn.reason == "scored on the wrong data"
    history = store.list_audits("m")
    assert [r.id for r in history] == [early.id, late.id]              # kept in the history
    assert history[1].withdrawn == withdrawn.withdrawn and history[0].withdrawn is None
    assert store.latest("m").id == early.id                            # no longer counts
    assert store.read().counted() == [early]
    with pytest.raises(AuditStoreError, match="already withdrawn"):
        store.withdraw(late.id, by="bob", reason="again")
    con = sqlite3.connect(tmp_path / "a.sqlite")
    for statement in ("DELETE FROM withdrawals", "UPDATE withdrawals SET reason = 'x'",
                      "DELETE FROM audits"):
        with pytest.raises(sqlite3.DatabaseError, match="final|immutable"):
            con.execute(statement)
    con.close()
    assert store.get(late.id).withdrawn.reason == "scored on the wrong data"


def test_withdrawals_travel_through_export_and_import(tmp_path):
    a = AuditStore(tmp_path / "a.sqlite")
    kept, gone = a.save_audit(_record()), a.save_audit(_record(day="2025-02-01"))
    a.withdraw(gone.id, by="ann", reason="duplicate")
    b = AuditStore(tmp_path / "b.sqlite")
    assert b.import_json(a.export_json()) == (2, 0)
    assert b.get(gone.id).withdrawn == a.get(gone.id).withdrawn
    assert b.get(kept.id).withdrawn is None


def test_version_1_store_is_read_and_upgraded_by_its_next_write(tmp_path):
    path = tmp_path / "v1.sqlite"
    con = sqlite3.connect(path)                 # the format aidebt wrote before withdrawals
    con.executescript("""
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE audits (id TEXT PRIMARY KEY, model TEXT NOT NULL,
          model_version TEXT NOT NULL, audited_at TEXT NOT NULL,
          questionnaire_version TEXT NOT NULL, auditor TEXT NOT NULL, saved_at TEXT NOT NULL,
          payload TEXT NOT NULL);
        CREATE TABLE drafts (model TEXT PRIMARY KEY, updated_at TEXT NOT NULL,
          payload TEXT NOT NULL);
        INSERT INTO meta VALUES ('format', 'aidebt-audit-store'), ('version', '1');
    """)
    old = _record(id="old1", saved_at="2025-01-01T10:00:00+00:00")
    con.execute("INSERT INTO audits VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (old.id, old.model, old.model_version, old.audited_at,
                 old.questionnaire_version, old.auditor, old.saved_at,
                 json.dumps(old.payload())))
    con.commit()
    con.close()
    before = path.read_bytes()
    store = AuditStore(path)
    assert store.list_audits() == [old] and path.read_bytes() == before    # read-only
    store.withdraw("old1", by="ann", reason="superseded")
    con = sqlite3.connect(path)
    assert con.execute("SELECT value FROM meta WHERE key = 'version'").fetchone() == ("3",)
    con.close()
    assert store.get("old1").withdrawn.by == "ann"


# -- schema checks: before anything is written, and when reading ----------------------------
@pytest.mark.parametrize(("change", "field", "problem"), [
    ({"audited_at": "not-a-date"}, "audited_at", "not a date"),
    ({"audited_at": 20250101}, "audited_at", "expected a date"),
    ({"model": 7}, "model", "valid string"),
    ({"answers": {"D1": {"level": 5}}}, "answers.D1.level", "0-4"),
    ({"answers": {"D1": {"level": "high"}}}, "answers.D1.level", "0-4"),
    ({"answers": {"Q99": {"level": 2}}}, "answers.Q99", "no such question"),
    ({"answers": {"D1": {"level": 2, "measured_level": "abc"}}}, "answers.D1.measured_level",
     "valid integer"),
    ({"answers": {"D1": {"level": 2, "evidence_date": "2025-13-45"}}},
     "answers.D1.evidence_date", "not a date"),
    ({"scores": {"overall": "high"}}, "scores.overall", "score 0-10"),
    ({"scores": {"overall": 11.0}}, "scores.overall", "score 0-10"),
    ({"findings": "none"}, "findings", "valid list"),
    ({"surprise": 1}, "surprise", "Extra inputs"),
])
def test_bad_import_is_refused_before_anything_is_written(tmp_path, change, field, problem):
    good = _record(id="good1", saved_at="2025-01-01T10:00:00+00:00").to_dict()
    bad = {**_record(id="bad1").to_dict(), **change}
    path = tmp_path / "new" / "audits.sqlite"
    with pytest.raises(AuditError) as err:
        AuditStore(path).import_json({"format": "aidebt-audits", "audits": [good, bad]},
                                     origin="in.json")
    message = str(err.value)
    assert message.startswith("in.json: audit #2 (id bad1): ")
    assert f"field '{field}'" in message and problem in message and "\n" not in message
    assert not (tmp_path / "new").exists()


def test_a_bad_stored_record_is_skipped_with_its_name(tmp_path):
    path = tmp_path / "a.sqlite"
    store = AuditStore(path)
    good = store.save_audit(_record())
    con = sqlite3.connect(path)                 # as an older aidebt's import let it in
    con.execute("INSERT INTO audits VALUES ('bad1', 'm', '1', 'not-a-date', '2026.1', 'x', "
                "'2025-01-01T00:00:00+00:00', ?)", (json.dumps(_record().payload()),))
    con.execute("INSERT INTO audits VALUES ('bad2', 'm', '1', '2025-03-01', '2026.1', 'x', "
                "'2025-01-01T00:00:00+00:00', '{not json')")
    con.commit()
    con.close()
    stored = store.read()
    assert stored.records == (good,)
    bad1, bad2 = sorted(stored.skipped, key=lambda s: "bad2" in s)
    assert "audit bad1 (m, not-a-date)" in bad1 and "field 'audited_at'" in bad1
    assert "audit bad2 (m, 2025-03-01)" in bad2 and str(path) in bad2


# -- export --------------------------------------------------------------------------------
def test_export_never_overwrites_the_store_or_an_existing_file(tmp_path):
    path = tmp_path / "a.sqlite"
    store = AuditStore(path)
    store.save_audit(_record())
    before = path.read_bytes()
    (tmp_path / "link.sqlite").symlink_to(path)
    (tmp_path / "sub").mkdir()
    for same in (path, tmp_path / "link.sqlite", tmp_path / "sub" / ".." / "a.sqlite"):
        with pytest.raises(AuditStoreError, match="is the audit store itself"):
            store.write_export(same, force=True)
    assert path.read_bytes() == before and len(store.list_audits()) == 1
    target = tmp_path / "out.json"
    target.write_text("keep me")
    with pytest.raises(AuditStoreError, match="exists; use --force"):
        store.write_export(target)
    assert target.read_text() == "keep me"
    assert store.write_export(target, force=True) == 1
    assert json.loads(target.read_text())["audits"][0]["model"] == "m"


def test_saves_of_one_day_within_a_second_keep_their_order(tmp_path):
    """The history sorts by day, then save time: ten saves in well under a second come back
    in the order they were made, and the last is the latest (was: a random tie by id)."""
    store = AuditStore(tmp_path / "a.sqlite")
    saved = [store.save_audit(_record(level=i % 4)) for i in range(10)]
    assert [a.id for a in store.list_audits("m")] == [s.id for s in saved]
    assert store.latest("m").id == saved[-1].id
