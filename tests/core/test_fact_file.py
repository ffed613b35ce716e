"""A fact file is complete or refused: a truncated one would evaluate lost resources as absent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from posture.atomic import WriteError
from posture.facts import (
    CollectionError,
    Coverage,
    Fact,
    FactFileError,
    FactSet,
    FactWriter,
    read_fact_file,
    write_fact_file,
)


def _facts() -> FactSet:
    fs = FactSet(metadata={"started_at": "2026-01-01T00:00:00Z"})
    fs.scopes.append({"provider": "fake", "id": "acct-1"})
    fs.coverage.append(Coverage("fake", "acct-1", "r1", "fake.bucket"))
    fs.facts.extend(Fact("fake", "acct-1", "r1", "fake.bucket", f"b{i}", f"b{i}", {"public": i == 0})
                    for i in range(3))
    fs.errors.append(CollectionError("fake", "acct-1", "r2", "fake.bucket", "AccessDenied", "denied"))
    return fs


@pytest.fixture
def written(tmp_path: Path) -> Path:
    path = tmp_path / "facts.jsonl"
    write_fact_file(path, _facts())
    return path


def test_a_written_fact_file_reads_back_whole_and_its_footer_counts_the_records(written: Path) -> None:
    back = read_fact_file(written)
    assert (len(back.facts), len(back.errors), len(back.coverage), len(back.scopes)) == (3, 1, 1, 1)
    footer = json.loads(written.read_text(encoding="utf-8").splitlines()[-1])
    assert footer == {"kind": "footer", "records": {"collected": 1, "error": 1, "fact": 3, "scope": 1}}


def test_a_file_cut_off_mid_line_says_so(written: Path) -> None:
    text = written.read_text(encoding="utf-8")
    written.write_text(text[: text.index('"b1"') + 3], encoding="utf-8")
    with pytest.raises(FactFileError, match=r"facts.jsonl:\d+: not valid JSON: .*cut off while being written"):
        read_fact_file(written)


def test_a_file_cut_off_between_lines_is_refused_for_its_missing_footer(written: Path) -> None:
    lines = written.read_text(encoding="utf-8").splitlines(keepends=True)
    written.write_text("".join(lines[:4]), encoding="utf-8")
    with pytest.raises(FactFileError, match="ends without its footer line: the file is incomplete"):
        read_fact_file(written)


def test_a_file_with_a_record_removed_disagrees_with_its_footer(written: Path) -> None:
    lines = written.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [ln for ln in lines if '"id":"b1"' not in ln]
    assert len(kept) == len(lines) - 1
    written.write_text("".join(kept), encoding="utf-8")
    with pytest.raises(FactFileError, match="fact: 2 of 3"):
        read_fact_file(written)


def test_two_fact_files_joined_together_are_refused(written: Path) -> None:
    text = written.read_text(encoding="utf-8")
    written.write_text(text + text, encoding="utf-8")
    with pytest.raises(FactFileError, match="'header' line after the footer"):
        read_fact_file(written)


def test_a_failed_write_leaves_the_previous_file_untouched(written: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = written.read_bytes()

    def disk_full(self: FactWriter, facts: FactSet) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(FactWriter, "write_set", disk_full)
    with pytest.raises(WriteError, match="cannot write .*facts.jsonl: No space left on device"):
        write_fact_file(written, _facts())
    assert written.read_bytes() == before
    assert [p.name for p in written.parent.iterdir()] == ["facts.jsonl"]


def test_a_footer_without_counts_from_an_older_file_is_still_accepted(written: Path) -> None:
    lines = written.read_text(encoding="utf-8").splitlines(keepends=True)
    written.write_text("".join(lines[:-1]) + '{"kind":"footer"}\n', encoding="utf-8")
    assert len(read_fact_file(written).facts) == 3
