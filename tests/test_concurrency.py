"""32 threads creating, updating and deleting contacts of one listing on a served instance."""

import threading
import uuid

import requests

THREADS = 32
PER_THREAD = 8


def test_concurrent_writes_are_neither_lost_nor_doubled(served):
    ns = f"{served}/__ns/conc-{uuid.uuid4().hex[:8]}"
    key = {"Authorization": "Bearer K"}
    r = requests.put(f"{ns}/__sim/state/botw", json={"api_keys": {"K": ["1"]}}, timeout=10)
    assert r.status_code == 200
    acknowledged = {}
    errors = []
    barrier = threading.Barrier(THREADS)

    def worker(t):
        s = requests.Session()
        mine = {}
        try:
            barrier.wait(timeout=10)
            for j in range(PER_THREAD):
                email = f"t{t}-{j}@x.co"
                r = s.post(
                    f"{ns}/crm/1",
                    data={"email": email, "first_name": "new"},
                    headers=key,
                    timeout=10,
                )
                assert r.status_code == 201, r.text
                mine[email] = "new"
            for j in range(0, PER_THREAD, 2):  # update every other one, by email
                email = f"t{t}-{j}@x.co"
                r = s.put(
                    f"{ns}/crm/1",
                    data={"email": email, "first_name": f"upd{t}"},
                    headers=key,
                    timeout=10,
                )
                assert r.status_code == 200, r.text
                mine[email] = f"upd{t}"
            for j in range(0, PER_THREAD, 4):  # delete every fourth one
                email = f"t{t}-{j}@x.co"
                r = s.delete(f"{ns}/crm/1", data={"email": email}, headers=key, timeout=10)
                assert r.status_code == 202, r.text
                del mine[email]
            # an upsert of a new email creates exactly one contact
            r = s.put(
                f"{ns}/crm/1",
                data={"email": f"t{t}-up@x.co", "first_name": "up"},
                headers=key,
                timeout=10,
            )
            assert r.status_code == 201, r.text
            mine[f"t{t}-up@x.co"] = "up"
            acknowledged.update(mine)
        except Exception as exc:  # noqa: BLE001 - surfaced below
            errors.append(repr(exc))

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    assert errors == []

    contacts = requests.get(f"{ns}/__sim/state/botw", timeout=10).json()["contacts"]
    assert {c["email"]: c["first_name"] for c in contacts} == acknowledged
    assert len(contacts) == len(acknowledged) == THREADS * (PER_THREAD - PER_THREAD // 4 + 1)
    ids = [c["contact_id"] for c in contacts]
    assert len(set(ids)) == len(ids)
    # the id sequence was never handed out twice: creates + upserts, no gaps from lost writes
    assert max(ids) == THREADS * (PER_THREAD + 1)
    journal = requests.get(f"{ns}/__sim/journal", params={"limit": 1000}, timeout=10).json()[
        "entries"
    ]
    assert len(journal) == THREADS * (PER_THREAD + PER_THREAD // 2 + PER_THREAD // 4 + 1)
