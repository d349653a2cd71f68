#!/usr/bin/python3
"""Bulk-load seeded entries into a STOPPED Samba DC's sam.ldb, in one transaction.

Reads JSON lines {"dn": ..., "attrs": {name: str | [str]}} on stdin. Uses Samba's own Python
bindings (the full dsdb module stack: RID allocation, SDs, linked attributes, backlinks), opened
with batch_mode, the option Samba's own join/provision use for bulk loads: no per-object
sub-transaction, one commit at the end. All-or-nothing: any error aborts the whole load.
Progress goes to stderr; a JSON summary to stdout.
"""
import json
import sys
import time

from samba.auth import system_session
from samba.param import LoadParm
from samba.samdb import SamDB


def main() -> int:
    conf, url, label = sys.argv[1], sys.argv[2], sys.argv[3]
    lp = LoadParm()
    lp.load(conf)
    t0 = time.time()
    db = SamDB(url=url, session_info=system_session(), lp=lp,
               options=["batch_mode:1", "transaction_index_cache_size:202481"])
    db.transaction_start()
    count = 0
    last = t0
    try:
        for line in sys.stdin:
            if not line.strip():
                continue
            entry = json.loads(line)
            msg = {"dn": entry["dn"]}
            msg.update(entry["attrs"])
            db.add(msg)
            count += 1
            now = time.time()
            if now - last >= 2:
                last = now
                print(f"[seed] {label}: {count} objects ({count / (now - t0):.0f}/s)", file=sys.stderr, flush=True)
        t_commit = time.time()
        db.transaction_commit()
    except Exception:
        db.transaction_cancel()
        raise
    dt = time.time() - t0
    print(json.dumps({"objects": count, "seconds": round(dt, 2), "commitSeconds": round(time.time() - t_commit, 2)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
