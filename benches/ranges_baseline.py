"""Baseline for benches/ranges.rs: the same parse + coverage with Python's json and ipaddress.

Usage: python3 ranges_baseline.py SERVICE_TAGS.json RULES.csv RUNS
Prints one JSON object: the time of each run in ms, their median, and a summary of the result that
the Rust benchmark compares with its own, so both sides are known to compute the same thing.
"""

import bisect
import csv
import ipaddress
import json
import statistics
import sys
import time


def load_tags(path):
    with open(path, "rb") as f:
        doc = json.loads(f.read().decode("utf-8-sig"))
    tags = []
    for value in doc["values"]:
        prefixes = []
        for text in value["properties"].get("addressPrefixes") or []:
            net = ipaddress.ip_network(text.strip(), strict=False)
            prefixes.append((net.version, int(net.network_address), int(net.broadcast_address)))
        tags.append((value["name"], prefixes))
    return tags


def load_rules(path):
    allow, deny = {4: [], 6: []}, {4: [], 6: []}
    with open(path, newline="", encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            row = {k.strip().lower(): (v or "").strip() for k, v in row.items()}
            kind, flow = row.get("type", "").lower(), row.get("flow", "").lower()
            if kind not in ("allow", "deny") or flow not in ("inbound", "outbound", "bidirectional"):
                continue
            try:
                start = ipaddress.ip_address(row["range_start"])
                end = ipaddress.ip_address(row["range_end"]) if row.get("range_end") else start
            except ValueError:
                continue
            if start.version != end.version or start > end:
                continue
            if row.get("active", "true").lower() not in ("true", "1", "yes"):
                continue
            if flow == "outbound":
                continue
            (allow if kind == "allow" else deny)[start.version].append((int(start), int(end)))
    return allow, deny


def merge(intervals):
    out = []
    for s, e in sorted(intervals):
        if out and s <= out[-1][1] + 1:
            if e > out[-1][1]:
                out[-1][1] = e
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


def difference(a, b):
    out, j = [], 0
    for s, e in a:
        while j < len(b) and b[j][1] < s:
            j += 1
        cursor, k, consumed = s, j, False
        while k < len(b) and b[k][0] <= e:
            if b[k][0] > cursor:
                out.append((cursor, b[k][0] - 1))
            if b[k][1] < e:
                cursor = b[k][1] + 1
            else:
                consumed = True
                break
            k += 1
        if not consumed:
            out.append((cursor, e))
    return out


def intersection(a, b):
    i = j = 0
    out = []
    while i < len(a) and j < len(b):
        s, e = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if s <= e:
            out.append((s, e))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def count(intervals):
    return sum(e - s + 1 for s, e in intervals)


def judge(blocked, ends, prefixes):
    admitted = partly = fully = 0
    pieces = {4: [], 6: []}
    for version, s, e in prefixes:
        b, i = blocked[version], bisect.bisect_left(ends[version], s)
        hit = 0
        while i < len(b) and b[i][0] <= e:
            ps, pe = max(s, b[i][0]), min(e, b[i][1])
            pieces[version].append((ps, pe))
            hit += pe - ps + 1
            i += 1
        if hit == 0:
            admitted += 1
        elif hit == e - s + 1:
            fully += 1
        else:
            partly += 1
    return admitted, partly, fully, count(merge(pieces[4])), count(merge(pieces[6]))


def run(tags_path, rules_path):
    tags = load_tags(tags_path)
    allow, deny = load_rules(rules_path)
    blocked = {v: difference(merge(deny[v]), merge(allow[v])) for v in (4, 6)}
    ends = {v: [e for _, e in blocked[v]] for v in (4, 6)}
    per_tag = [judge(blocked, ends, prefixes) for _, prefixes in tags]
    distinct = sorted({p for _, prefixes in tags for p in prefixes})
    overall = judge(blocked, ends, distinct)
    union = {v: merge([(s, e) for ver, s, e in distinct if ver == v]) for v in (4, 6)}
    repair = {v: intersection(blocked[v], union[v]) for v in (4, 6)}
    return {
        "prefixes": len(distinct),
        "admitted": overall[0],
        "partly_blocked": overall[1],
        "fully_blocked": overall[2],
        # strings: IPv6 counts exceed what a JSON reader keeps exact in a float
        "blocked_v4": str(count(repair[4])),
        "blocked_v6": str(count(repair[6])),
        "repair_v4": len(repair[4]),
        "repair_v6": len(repair[6]),
        "tags_blocked": sum(1 for t in per_tag if t[1] or t[2]),
    }


def main():
    tags_path, rules_path, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    times, summary = [], None
    for _ in range(runs):
        start = time.perf_counter()
        summary = run(tags_path, rules_path)
        times.append((time.perf_counter() - start) * 1000.0)
    print(json.dumps({"runs_ms": times, "median_ms": statistics.median(times), "summary": summary}))


if __name__ == "__main__":
    main()
