"""The benchmark table in docs/benchmarks.md: a run of some sections replaces only their
rows; the others' rows stay, each with the run it comes from."""

import json
from pathlib import Path
from typing import Any

import pytest
from benchmarks import run as bench_run
from benchmarks.common import Row
from benchmarks.report import END, START, figures_block, markdown_table, merge_results, row_from

MACHINE = {
    "cores": 2,
    "cpu": "AMD EPYC",
    "memory_gib": 23.5,
    "platform": "Linux",
    "python": "3.11.7",
    "sqlite": "3.40.1",
    "postgresql": "15.20",
    "eventsourcing": "9.5.6",
    "load_average": [1.0, 1.0, 1.0],
    "load_average_end": [2.0, 2.0, 2.0],
}


def row(section: str, name: str, store: str, value: float, source: str) -> dict[str, Any]:
    return Row(section, name, store, value, "cmd/s").as_dict() | {"source": source}


def result(when: str, load: float, rows: list[dict[str, Any]]) -> dict[str, Any]:
    run = {
        "when": when,
        "mode": "full",
        "seconds": 10.0,
        "load_average": [load] * 3,
        "load_average_end": [load + 1] * 3,
    }
    return {
        "when": when,
        "mode": "full",
        "seconds": 10.0 * len({r["source"] for r in rows}),
        "machine": MACHINE,
        "failures": [],
        "rows": rows,
        "sections": {r["source"]: run for r in rows},
        "markdown": markdown_table([row_from(r) for r in rows]),
    }


FULL = result(
    "2026-12-03T17:19:04+00:00",
    6.2,
    [
        row("command path", "record note", "sqlite", 432, "commands/sqlite"),
        row("command path", "record note", "postgres", 51.7, "commands/postgres"),
        row("http", "POST note", "sqlite", 277, "http/sqlite"),
        row("memory", "service peak RSS", "sqlite", 95, "http/sqlite"),
        row("http", "POST note", "postgres", 126, "http/postgres"),
    ],
)


def test_running_one_section_replaces_its_rows_and_keeps_the_others_with_their_dates() -> None:
    http_again = result(
        "2026-12-04T16:00:00+00:00",
        11.0,
        [
            row("http", "POST note", "sqlite", 300, "http/sqlite"),
            row("http", "POST note", "postgres", 140, "http/postgres"),
        ],
    )

    merged = merge_results(FULL, http_again)

    assert [(r["source"], r["value"]) for r in merged["rows"]] == [
        ("commands/sqlite", 432),
        ("commands/postgres", 51.7),
        ("http/sqlite", 300),
        ("http/postgres", 140),
    ]
    assert merged["sections"]["commands/sqlite"]["when"] == "2026-12-03T17:19:04+00:00"
    assert merged["sections"]["commands/postgres"]["load_average"] == [6.2] * 3
    assert merged["sections"]["http/sqlite"]["when"] == "2026-12-04T16:00:00+00:00"
    assert "| 300 cmd/s |" in merged["markdown"] and "| 432 cmd/s |" in merged["markdown"]
    assert "| 277 cmd/s |" not in merged["markdown"]


def test_a_section_run_on_one_store_keeps_the_other_stores_rows() -> None:
    sqlite_only = result(
        "2026-12-04T16:00:00+00:00", 11.0, [row("http", "POST note", "sqlite", 300, "http/sqlite")]
    )

    merged = merge_results(FULL, sqlite_only)

    values = {(r["source"], r["name"]): r["value"] for r in merged["rows"]}
    assert values[("http/postgres", "POST note")] == 126
    assert values[("http/sqlite", "POST note")] == 300
    assert ("http/sqlite", "service peak RSS") not in values


def test_a_section_that_failed_keeps_its_earlier_rows_and_their_date() -> None:
    failed = result("2026-12-04T16:00:00+00:00", 11.0, []) | {"failures": ["http/sqlite: boom"]}

    merged = merge_results(FULL, failed)

    assert merged["rows"] == FULL["rows"]
    assert merged["sections"] == FULL["sections"]


def test_a_section_new_to_the_table_is_added_after_the_kept_rows() -> None:
    verify = result(
        "2026-12-04T16:00:00+00:00",
        11.0,
        [row("verify", "verify --all", "sqlite", 9, "verify/sqlite")],
    )

    merged = merge_results(FULL, verify)

    assert [r["source"] for r in merged["rows"]][-1] == "verify/sqlite"
    assert len(merged["rows"]) == len(FULL["rows"]) + 1


def test_the_header_names_each_run_with_its_sections_and_load() -> None:
    http_again = result(
        "2026-12-04T16:00:00+00:00", 11.0, [row("http", "POST note", "sqlite", 300, "http/sqlite")]
    )

    block = figures_block(merge_results(FULL, http_again))

    assert "Figures from 2 runs" in block
    assert (
        "- full run 2026-12-03T17:19:04+00:00, 30 s: commands (sqlite, postgres), "
        "http (postgres); load average 6.2/6.2/6.2 at the start, 7.2/7.2/7.2 at the end."
    ) in block
    assert (
        "- full run 2026-12-04T16:00:00+00:00, 10 s: http (sqlite); load average "
        "11.0/11.0/11.0 at the start, 12.0/12.0/12.0 at the end."
    ) in block


def test_a_table_from_one_run_has_one_line_on_that_run() -> None:
    legacy = {key: value for key, value in FULL.items() if key != "sections"}

    block = figures_block(legacy)

    assert block.startswith(
        f"{START}\nLatest full run: 2026-12-03T17:19:04+00:00, 40 s, on 2 cores"
    )
    assert block.endswith(END)


def fake_section(kind: str, **_: object) -> list[Row]:
    return [Row("http", "POST note", kind, 300, "cmd/s")]


@pytest.fixture
def results_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """run.py with one fake section, writing under tmp_path."""
    doc = tmp_path / "benchmarks.md"
    doc.write_text(f"# Benchmarks\n\nAbove.\n\n{START}\nold\n{END}\n\nBelow.\n")
    monkeypatch.setattr(bench_run, "RESULTS", tmp_path)
    monkeypatch.setattr(bench_run, "FIGURES_DOC", doc)
    monkeypatch.setattr(bench_run, "machine_info", lambda: dict(MACHINE))
    monkeypatch.setattr(bench_run, "postgres_problem", lambda: None)
    monkeypatch.setitem(bench_run.SECTIONS, "http", ("fake", ("sqlite",), ("sqlite",)))
    monkeypatch.setattr(bench_run, "section_runner", lambda _module: fake_section)
    (tmp_path / "latest.json").write_text(json.dumps(FULL))
    return tmp_path


def test_run_only_one_section_with_docs_keeps_the_other_sections_in_the_table_and_json(
    results_dir: Path,
) -> None:
    bench_run.main(["--only", "http", "--stores", "sqlite", "--docs"])

    latest = json.loads((results_dir / "latest.json").read_text())
    doc = (results_dir / "benchmarks.md").read_text()
    assert [(r["source"], r["value"]) for r in latest["rows"]] == [
        ("commands/sqlite", 432),
        ("commands/postgres", 51.7),
        ("http/sqlite", 300),
        ("http/postgres", 126),
    ]
    assert latest["sections"]["commands/sqlite"]["when"] == "2026-12-03T17:19:04+00:00"
    assert "| 432 cmd/s |" in doc and "| 300 cmd/s |" in doc and "| 277 cmd/s |" not in doc
    assert "- full run 2026-12-03T17:19:04+00:00" in doc
    assert doc.startswith("# Benchmarks\n\nAbove.\n\n") and doc.endswith(f"{END}\n\nBelow.\n")


def test_an_output_file_named_on_the_command_line_holds_only_the_run(results_dir: Path) -> None:
    bench_run.main(
        ["--only", "http", "--stores", "sqlite", "--output", str(results_dir / "x.json")]
    )

    written = json.loads((results_dir / "x.json").read_text())
    assert [r["source"] for r in written["rows"]] == ["http/sqlite"]
    assert json.loads((results_dir / "latest.json").read_text()) == FULL


def test_docs_from_puts_that_results_table_in_the_docs(results_dir: Path) -> None:
    bench_run.main(["--docs-from", str(results_dir / "latest.json")])

    doc = (results_dir / "benchmarks.md").read_text()
    assert "| 277 cmd/s |" in doc and "Latest full run: 2026-12-03T17:19:04+00:00" in doc
