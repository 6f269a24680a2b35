"""A journal line that is not JSON is named with its column once: json's own messages that end in "at"
("Invalid control character at", "Unterminated string starting at") are not followed by a second "at"."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from gameday.cli import main
from gameday.errors import JournalError
from gameday.journal import parse_lines


@pytest.mark.parametrize("line,says", [
    (b'{"seq": "a\tb"}\n', "j.jsonl:1: not JSON: Invalid control character at column 11"),
    (b'{"seq": "ab', "j.jsonl:1: not JSON: Unterminated string starting at column 9"),
    (b"hello\n", "j.jsonl:1: not JSON: Expecting value at column 1"),
    (b'{"t": NaN}\n', "j.jsonl:1: non-finite number NaN (only finite numbers are allowed) at column 7"),
])
def test_the_column_is_said_once(line: bytes, says: str) -> None:
    with pytest.raises(JournalError) as exc:
        parse_lines("j.jsonl", [line, b"{}\n"])
    assert str(exc.value) == says


def test_gameday_train_warns_without_a_repeated_at(tmp_path: Path) -> None:
    (tmp_path / "bad.jsonl").write_bytes(b'{"seq": "a\tb"}\n')
    result = CliRunner().invoke(main, ["train", "profile", "dana", "--journals", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert f"gameday: skipped journal {tmp_path / 'bad.jsonl'}:1: not JSON: Invalid control character at column 11" in (
        result.stderr.splitlines())
    assert "at at" not in result.stderr
