"""Print tools/bench's results (JSON lines on stdin) as a Markdown table."""

import json
import sys


def cell(value, fmt):
    return "—" if value is None else fmt.format(value)


rows = [json.loads(line) for line in sys.stdin if line.strip()]
print(f"### {sys.argv[1] if len(sys.argv) > 1 else 'crm_outbound benchmark'}\n")
print("| scenario | size | median | queries/op | peak memory | baseline | ratio per op (time / queries) | goal | met |")
print("|---|---|---|---|---|---|---|---|---|")
for row in rows:
    per_op = None if row["queries"] is None else row["queries"] / row["ops"] if row.get("ops") else row["queries"]
    baseline = row.get("baseline_seconds")
    print(
        "| {scenario} | {size} | {median} | {queries} | {peak} | {baseline} | {ratio} | {goal} | {met} |".format(
            scenario=row["scenario"],
            size=row["size"],
            median=cell(row["seconds"], "{:.3f} s"),
            queries="—" if per_op is None else f"{per_op:.2f}" if per_op < 10 else f"{per_op:.0f}",
            peak=cell(row.get("peak_mb"), "{:.0f} MB"),
            baseline=cell(baseline, "{:.3f} s"),
            ratio="—"
            if row.get("ratio") is None
            else f"{row['ratio']:.2f} / {row['query_ratio']:.2f}"
            if row.get("query_ratio") is not None
            else f"{row['ratio']:.2f}",
            goal=row.get("goal") or "",
            met={True: "yes", False: "**no**", None: "—"}[row.get("met")],
        )
    )
notes = [row for row in rows if row.get("note")]
if notes:
    print()
for row in notes:
    print(f"- {row['scenario']}: {row['note']}")
