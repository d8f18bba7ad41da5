"""The audit store: round trip, immutability, drafts, export/import, concurrent saves, and
refusing (without touching) a file that is not an aidebt store."""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
import threading

import pytest

from aidebt_core.audit.questions import Answer, AuditError
from aidebt_core.audit.store import AuditRecord, AuditStore, AuditStoreError, saved_audits


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
