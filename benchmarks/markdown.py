"""Markdown for the benchmark reports: one table helper for every part."""


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    """A markdown table as lines: header, rule, one line per row (cells already text)."""
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
            *("| " + " | ".join(r) + " |" for r in rows)]
