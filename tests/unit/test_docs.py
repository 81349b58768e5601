"""The README stays a front door, the docs' links lead somewhere, and code comments say why
without carrying measured figures."""

import io
import re
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
README_LIMIT = 12 * 1024

# [text](target) outside code; images and reference-style links are not used here.
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"`[^`\n]*`")
# Units and tools that only a measurement gives: a comment carrying one is a benchmark
# figure that belongs in docs/benchmarks.md or a commit message.
MEASURED = re.compile(
    r"µs|\bns\b|req/s|cmd/s|events/s|callgrind|\binstructions\b|this machine", re.IGNORECASE
)


def links_of(doc: Path) -> list[str]:
    text = CODE_SPAN.sub("", FENCE.sub("", doc.read_text()))
    return LINK.findall(text)


def anchors_of(doc: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    headings = re.findall(r"^#+\s+(.*)$", FENCE.sub("", doc.read_text()), re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def comments_and_docstrings(source: str) -> list[tuple[int, str]]:
    found = []
    previous = tokenize.INDENT
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            found.append((tok.start[0], tok.string))
        elif tok.type == tokenize.STRING and previous in (
            tokenize.INDENT,
            tokenize.NEWLINE,
            tokenize.NL,
            tokenize.DEDENT,
        ):
            found.append((tok.start[0], tok.string))  # a statement that is only a string
        if tok.type not in (tokenize.COMMENT, tokenize.NL):
            previous = tok.type
    return found


def test_the_readme_is_a_front_door_under_twelve_kilobytes() -> None:
    size = len((ROOT / "README.md").read_bytes())

    assert size < README_LIMIT, f"README.md is {size} bytes; move reference text into docs/"


def test_the_readme_links_to_every_document_under_docs() -> None:
    linked = {(ROOT / target.split("#")[0]).resolve() for target in links_of(ROOT / "README.md")}
    top_level = {d.resolve() for d in (ROOT / "docs").glob("*.md")}

    assert top_level - linked == set()


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: str(d.relative_to(ROOT)))
def test_every_relative_link_leads_to_a_file_and_heading_that_exist(doc: Path) -> None:
    broken = []
    for target in links_of(doc):
        if re.match(r"^[a-z]+:", target):  # http:, https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        linked = (doc.parent / path).resolve() if path else doc
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in anchors_of(linked):
            broken.append(f"{target}: no such heading")

    assert broken == []


def test_the_benchmark_table_is_generated_into_docs_between_its_markers() -> None:
    text = (ROOT / "docs" / "benchmarks.md").read_text()

    assert text.count("<!-- benchmarks:start -->") == 1
    assert text.count("<!-- benchmarks:end -->") == 1
    assert "<!-- benchmarks:start -->" not in (ROOT / "README.md").read_text()


def test_no_comment_or_docstring_under_src_carries_a_measured_figure() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in sorted((ROOT / "src").rglob("*.py"))
        for line, text in comments_and_docstrings(path.read_text())
        if MEASURED.search(text)
    ]

    assert found == []


def test_a_measured_figure_in_a_comment_would_be_found() -> None:
    source = '"""Module."""\n\n\ndef f() -> None:\n    """Takes 3 µs."""\n    x = 1  # 5 req/s\n'

    found = [line for line, text in comments_and_docstrings(source) if MEASURED.search(text)]

    assert found == [5, 6]
