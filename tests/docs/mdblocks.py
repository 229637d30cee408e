"""Reading a Markdown page's code blocks, and matching shown output against real output.

Pure functions, no I/O: :mod:`docs_runner` executes what this module reads. The conventions are
described in HACKING.md ("Docs that run") and in the docstring of ``test_docs_run.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

PYTHON = frozenset({"python", "py"})
SHELL = frozenset({"sh", "shell", "bash"})
CONSOLE = frozenset({"console"})
TEXT = frozenset({"text"})
LANGUAGES = PYTHON | SHELL | CONSOLE | TEXT

_FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
# "# exit 1" (or "# exit 2: why") at the start of a command's trailing comment.
_EXIT = re.compile(r"#\s*exit (\d+)\b")
# Lines that look like commands or Python: they may not hide in a `text` block.
_CODE_LIKE = re.compile(
    r"^\s*(\$ |gatepass |pip |python3? |make |\.venv/|import |from \S+ import |curl |git )"
)


@dataclass
class Command:
    """One shell command, what it is expected to print (console only) and its exit status."""

    line: str
    output: list[str] = field(default_factory=list)
    shows_output: bool = False
    exit_status: int = 0


@dataclass
class Block:
    path: str
    line: int  # 1-based line of the opening fence
    language: str
    attributes: tuple[str, ...]
    source: str

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"

    @property
    def is_setup(self) -> bool:
        return "setup" in self.attributes

    def commands(self) -> list[Command]:
        if self.language in CONSOLE:
            return console_commands(self.source)
        return shell_commands(self.source)


def parse_blocks(text: str, path: str) -> list[Block]:
    """Every fenced block of a page, indented ones (inside lists) included."""
    blocks: list[Block] = []
    lines = text.split("\n")
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        indent, fence = len(opening["indent"]), opening["fence"]
        info = opening["info"].strip().split()
        body: list[str] = []
        end = index + 1
        while end < len(lines):
            closing = _FENCE.match(lines[end])
            if (
                closing is not None
                and closing["fence"][0] == fence[0]
                and len(closing["fence"]) >= len(fence)
                and not closing["info"].strip()
            ):
                break
            body.append(lines[end][indent:] if lines[end][:indent].isspace() else lines[end])
            end += 1
        else:
            raise ValueError(f"{path}:{index + 1}: code block never closed")
        language = info[0] if info else ""
        blocks.append(Block(path, index + 1, language, tuple(info[1:]), "\n".join(body) + "\n"))
        index = end + 1
    return blocks


def check_block(block: Block) -> str | None:
    """Why a block cannot be run as it is written, or None."""
    if block.language not in LANGUAGES:
        shown = block.language or "no language"
        return (
            f"{block.where}: a code block with {shown}: say what it is "
            f"({', '.join(sorted(LANGUAGES))}); `text` is for figures, never for code"
        )
    if block.language in TEXT:
        for line in block.source.splitlines():
            if _CODE_LIKE.match(line):
                return f"{block.where}: this `text` block holds a command or code: {line.strip()!r}"
    unknown = set(block.attributes) - {"setup"}
    if unknown:
        return f"{block.where}: unknown block attribute(s) {sorted(unknown)}; only `setup` exists"
    return None


def _join_continuations(lines: list[str]) -> list[str]:
    joined: list[str] = []
    pending = ""
    for line in lines:
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        joined.append(pending + line)
        pending = ""
    if pending:
        joined.append(pending)
    return joined


def comment_of(line: str) -> str:
    """The trailing ``# ...`` comment of a shell line: an unquoted ``#`` after whitespace."""
    quote = ""
    for index, char in enumerate(line):
        if quote:
            if char == quote:
                quote = ""
            elif char == "\\" and quote == '"':
                continue
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1].isspace()):
            return line[index:]
    return ""


def _expected_status(line: str) -> int:
    """The ``# exit N`` annotation of a command line (bash ignores the comment when it runs)."""
    match = _EXIT.match(comment_of(line))
    return int(match.group(1)) if match else 0


def shell_commands(source: str) -> list[Command]:
    """An ``sh`` block: every line that is not blank or a comment is a command."""
    lines = [
        line for line in source.splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]
    return [
        Command(line, exit_status=_expected_status(line)) for line in _join_continuations(lines)
    ]


def console_commands(source: str) -> list[Command]:
    """A ``console`` block: ``$ command`` lines, each followed by the output it shows."""
    commands: list[Command] = []
    lines = source.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if not line.startswith("$ "):
            if commands:
                commands[-1].output.append(line)
                commands[-1].shows_output = True
                index += 1
                continue
            raise ValueError(f"console block: output before any `$ ` command: {line!r}")
        text = line[2:]
        while text.rstrip().endswith("\\") and index + 1 < len(lines):
            index += 1
            text = text.rstrip()[:-1] + " " + lines[index].removeprefix("> ")
        commands.append(Command(text, exit_status=_expected_status(text)))
        index += 1
    for command in commands:
        while command.output and not command.output[-1].strip():
            command.output.pop()
        command.shows_output = bool(command.output)
    return commands


# --- output matching ------------------------------------------------------------------------

INTERRUPT = "^C"


def _line_pattern(expected: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in expected.split("...")) + r"\Z")


def output_matches(expected: list[str], actual: list[str]) -> bool:
    """Does ``actual`` (all of it) match ``expected``?

    A line ``...`` matches any number of lines (none included); ``...`` inside a line matches
    any text. Trailing whitespace is ignored. A ``^C`` line (the reader pressed Ctrl-C) matches
    nothing, or the empty line a program prints to end the terminal's ``^C`` echo.
    """
    exp = [line.rstrip() for line in expected]
    act = [line.rstrip() for line in actual]
    while act and not act[-1]:
        act.pop()
    memo: dict[tuple[int, int], bool] = {}

    def match(i: int, j: int) -> bool:
        key = (i, j)
        if key in memo:
            return memo[key]
        if i == len(exp):
            result = j == len(act)
        elif exp[i] == "...":
            result = any(match(i + 1, k) for k in range(j, len(act) + 1))
        elif exp[i] == INTERRUPT:
            result = match(i + 1, j) or (j < len(act) and act[j] == "" and match(i + 1, j + 1))
        else:
            result = (
                j < len(act) and bool(_line_pattern(exp[i]).match(act[j])) and match(i + 1, j + 1)
            )
        memo[key] = result
        return result

    return match(0, 0)


def prefix_matches(expected: list[str], actual: list[str]) -> bool:
    """Has ``actual`` printed everything ``expected`` shows (the lines before a ``^C``)?"""
    return any(output_matches(expected, actual[:k]) for k in range(len(actual) + 1))
