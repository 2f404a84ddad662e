"""The seed's comparison table: AP50-95, AP50, AP75, small, medium, large per model,
and a win / lose / even judgement of this model against each reference.

Rule for "even": the two values, each rounded to the table's 3 decimals, differ by less
than `EVEN_WITHIN` = 0.005 (half an AP point). Differences that small are within the
noise of a retrain or of a rescored split; this rule reproduces the seed's own row
(0.236 vs 0.240 even, 0.091 vs 0.086 win).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

#: (column title, stat name)
TABLE_COLUMNS = (("AP50-95", "AP"), ("AP50", "AP50"), ("AP75", "AP75"),
                 ("small", "APs"), ("medium", "APm"), ("large", "APl"))

EVEN_WITHIN = 0.005


def judge(value: float, reference: float, even_within: float = EVEN_WITHIN) -> str:
    """'win', 'lose' or 'even' for `value` against `reference` (higher is better);
    'n/a' when either is -1, COCOeval's mark for "no ground truth in this area range"."""
    if value < 0 or reference < 0:
        return "n/a"
    diff = round(value * 1000) - round(reference * 1000)  # in table units (0.001)
    if abs(diff) < round(even_within * 1000):
        return "even"
    return "win" if diff > 0 else "lose"


def comparison_table(name: str, stats: Mapping[str, float],
                     references: Sequence[tuple[str, Mapping[str, float]]] = (),
                     even_within: float = EVEN_WITHIN) -> dict:
    """Rows of the seed's table: each reference, then this model, then one judgement row
    per reference. Pure data: {"columns": [...], "rows": [{"model", "values", "role"}],
    "judgements": [{"against", "results"}], "even_within": x}."""
    columns = [title for title, _ in TABLE_COLUMNS]
    rows = [{"model": ref_name, "role": "criterion" if i == 0 else "reference",
             "values": [float(ref[key]) for _, key in TABLE_COLUMNS]}
            for i, (ref_name, ref) in enumerate(references)]
    rows.append({"model": name, "role": "target",
                 "values": [float(stats[key]) for _, key in TABLE_COLUMNS]})
    judgements = [{"against": ref_name,
                   "results": [judge(stats[key], ref[key], even_within)
                               for _, key in TABLE_COLUMNS]}
                  for ref_name, ref in references]
    return {"columns": columns, "rows": rows, "judgements": judgements,
            "even_within": even_within}


def format_stat(value: float) -> str:
    """A stat as the table prints it: 3 decimals, '-' for COCOeval's -1 (no GT)."""
    return "-" if value < 0 else f"{value:.3f}"


def table_markdown(table: Mapping) -> str:
    """The table as the seed's README shows it (markdown)."""
    head = "| model | " + " | ".join(table["columns"]) + " | judgement |"
    rule = "|---|" + "---:|" * len(table["columns"]) + "---:|"
    lines = [head, rule]
    for row in table["rows"]:
        cells = " | ".join(format_stat(v) for v in row["values"])
        lines.append(f"| {row['model']} | {cells} | {row['role']} |")
    for judgement in table["judgements"]:
        cells = " | ".join(judgement["results"])
        lines.append(f"| vs {judgement['against']} | {cells} | result |")
    return "\n".join(lines)
