"""The docs harness itself: it reads blocks as pages write them and fails when a page is wrong.

A harness that cannot fail proves nothing, so each kind of defect is planted in a small page and
must be caught: a snippet that raises, output that differs from what the page shows, a command
that fails, a command hidden in a ``text`` block, a block without a language.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from docs_runner import Services, run_page
from mdblocks import check_block, console_commands, output_matches, parse_blocks, shell_commands


def run(tmp_path: Path, text: str) -> list[str]:
    blocks = parse_blocks(text, "page.md")
    problems = [p for p in map(check_block, blocks) if p]
    assert problems == [], problems
    work = tmp_path / "work"
    work.mkdir()
    services = Services(need=lambda name: pytest.fail(f"asked for {name}"), token="t")
    return run_page(blocks, work, tmp_path, services)


def test_blocks_indented_fences_and_attributes() -> None:
    page = "a\n```python\nx = 1\n```\n\n1. item\n\n   ```sh setup\n   echo hi\n   ```\n"
    page += "~~~text\nt\n~~~\n"
    blocks = parse_blocks(page, "p.md")
    assert [(b.language, b.attributes, b.source, b.line) for b in blocks] == [
        ("python", (), "x = 1\n", 2),
        ("sh", ("setup",), "echo hi\n", 8),
        ("text", (), "t\n", 11),
    ]


def test_commands_continuations_comments_and_exit_annotations() -> None:
    sh = shell_commands("# a comment\ngatepass a \\\n  --b 1   # exit 2: why\n\necho '# exit 3'\n")
    assert [(c.line.split()[:3], c.exit_status) for c in sh] == [
        (["gatepass", "a", "--b"], 2),
        (["echo", "'#", "exit"], 0),
    ]
    console = console_commands("$ one\nout\n...\n\n$ two  # exit 1\n")
    assert [(c.line, c.output, c.exit_status) for c in console] == [
        ("one", ["out", "..."], 0),
        ("two  # exit 1", [], 1),
    ]


def test_output_matching_rules() -> None:
    assert output_matches(["a ... c", "...", "z"], ["a b c", "1", "2", "z"])
    assert output_matches(["a", "..."], ["a"])
    assert not output_matches(["a"], ["a", "b"])  # everything printed must be shown
    assert not output_matches(["a b"], ["a c"])
    assert output_matches(["x", "^C", "stopped"], ["x", "", "stopped"])
    assert output_matches(["x", "^C", "stopped"], ["x", "stopped"])


@pytest.mark.parametrize(
    ("block", "problem"),
    [
        ("```\ngatepass decode x\n```\n", "no language"),
        ("```json\n{}\n```\n", "json"),
        ("```text\n$ gatepass decode x\n```\n", "holds a command"),
        ("```text\nimport gatepass\n```\n", "holds a command or code"),
        ("```sh later\necho\n```\n", "unknown block attribute"),
    ],
)
def test_blocks_that_cannot_run_as_written_are_refused(block: str, problem: str) -> None:
    [parsed] = parse_blocks(block, "p.md")
    reason = check_block(parsed)
    assert reason is not None and problem in reason


def test_a_good_page_runs_and_shares_what_setup_declares(tmp_path: Path) -> None:
    report = run(
        tmp_path,
        "```sh setup\nNAME=world\nprintf 'k=v' > data.txt\n```\n"
        "```python setup\nfrom pathlib import Path\nDATA = Path('data.txt').read_text()\n```\n"
        "```python\nimport asyncio\nawait asyncio.sleep(0)\nassert DATA == 'k=v'\n```\n"
        "```console\n$ echo hello $NAME\nhello ...\n$ false  # exit 1\n$ cat data.txt\nk=v\n```\n"
        "```sh\nprintf more > more.txt\n```\n```sh\ncat more.txt\n```\n",
    )
    assert len(report) == 9, report
    assert all(line.endswith("ran") for line in report), report


@pytest.mark.parametrize(
    ("page", "message"),
    [
        ("```python\nraise ValueError('boom')\n```\n", "boom"),
        ("```python\nundefined_name\n```\n", "undefined_name"),
        ("```sh\nfalse\n```\n", "exited 1"),
        ("```sh\ntrue  # exit 2\n```\n", "exited 0, the page says 2"),
        ("```console\n$ echo one\ntwo\n```\n", "printed something else"),
        ("```console\n$ printf 'a\\nb\\n'\na\n```\n", "printed something else"),
        # Names and variables from another example are not there: only setup blocks are shared.
        ("```python\nEARLIER = 1\n```\n```python\nprint(EARLIER)\n```\n", "EARLIER"),
        ('```sh\nX=1\n```\n```sh\ntest -n "$X"\n```\n', "exited 1"),
    ],
)
def test_a_wrong_page_fails(tmp_path: Path, page: str, message: str) -> None:
    with pytest.raises((AssertionError, Exception), match=message):
        run(tmp_path, page)


def test_ctrl_c_stops_a_command_that_runs_until_interrupted(tmp_path: Path) -> None:
    script = "import time; print('serving', flush=True)\ntry:\n time.sleep(60)\n"
    script += "except KeyboardInterrupt:\n print('stopped')\n"
    (tmp_path / "serve.py").write_text(script)
    report = run(
        tmp_path,
        f"```console\n$ python3 {tmp_path / 'serve.py'}\nserving\n^C\nstopped\n```\n",
    )
    assert "ran" in report[0]


def test_documented_urls_are_mapped_to_private_resources() -> None:
    asked: list[str] = []

    def need(name: str) -> str:
        asked.append(name)
        return {"redis_url": "redis://127.0.0.1:6379/15", "postgres_url": "postgresql://t@h/d"}[
            name
        ]

    services = Services(need=need, token=secrets.token_hex(2))
    text = services.rewrite(
        'open_store("redis://127.0.0.1:6379/0")\nopen_store("postgresql://app@db/app")\n'
        'again("redis://127.0.0.1:6379/0?max_connections=5")',
        "p.md:1",
    )
    assert "6379/0" not in text and "app@db" not in text
    assert f"redis://127.0.0.1:6379/15?prefix=gpdocs%3A{services.token}%3A0%3A" in text
    assert f"schema=gpdocs_{services.token}_1" in text
    assert f"max_connections=5&prefix=gpdocs%3A{services.token}%3A0%3A" in text  # same db
    assert asked == ["redis_url", "postgres_url"]
    with pytest.raises(AssertionError, match="Cluster"):
        services.rewrite("redis+cluster://h:1", "p.md:2")
