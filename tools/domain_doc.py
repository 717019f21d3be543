"""The tables of docs/domain.md that come from the code: `python -m tools.domain_doc`.

Prints the states-and-actions table and the applicant notices as the cases service's state
machine has them; `--write` puts them into docs/domain.md between their markers. A unit test
(tests/unit/test_docs.py) fails when the page and the code disagree, so the page stays true.
"""

import argparse
import re
from pathlib import Path

from services.cases.domain.model import (
    ACTION_ROLES,
    APPLICANT_NOTICES,
    BATCH_ACTIONS,
    TRANSITIONS,
    CaseState,
    Role,
)

DOC = Path(__file__).resolve().parent.parent / "docs" / "domain.md"


def states_table() -> str:
    lines = [
        "| state | 业务状态 (awaiting) | step | action → next states | who | batch |",
        "|---|---|---|---|---|---|",
    ]
    for state in CaseState:
        actions = TRANSITIONS[state]
        if not actions:
            lines.append(f"| `{state.value}` | {state.label} | | — | | |")
            continue
        for n, (action, targets) in enumerate(actions.items()):
            first = n == 0
            who = ", ".join(r.label for r in Role if r in ACTION_ROLES[action])
            nexts = ", ".join(f"`{t.value}`" for t in CaseState if t in targets)
            lines.append(
                f"| {'`' + state.value + '`' if first else ''} | {state.label if first else ''}"
                f" | {state.step or '' if first else ''}"
                f" | {action.verb} (`{action.value}`) → {nexts} | {who}"
                f" | {'yes' if action in BATCH_ACTIONS else ''} |"
            )
    return "\n".join(lines)


def notices_table() -> str:
    lines = ["| action | outcome | SMS to the applicant |", "|---|---|---|"]
    for (action, outcome), text in APPLICANT_NOTICES.items():
        lines.append(f"| {action.verb} | {outcome.label if outcome else ''} | {text} |")
    return "\n".join(lines)


BLOCKS = {"states": states_table, "notices": notices_table}


def block(name: str) -> str:
    begin = f"<!-- {name}:begin (python -m tools.domain_doc --write) -->"
    return f"{begin}\n{BLOCKS[name]()}\n<!-- {name}:end -->"


def current(text: str, name: str) -> str | None:
    found = re.search(rf"<!-- {name}:begin.*?<!-- {name}:end -->", text, re.S)
    return found.group(0) if found else None


def written(text: str) -> str:
    for name in BLOCKS:
        old = current(text, name)
        if old is None:
            raise SystemExit(f"docs/domain.md has no {name} markers")
        text = text.replace(old, block(name))
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update docs/domain.md")
    if parser.parse_args().write:
        DOC.write_text(written(DOC.read_text(encoding="utf-8")), encoding="utf-8")
    else:
        print("\n\n".join(block(name) for name in BLOCKS))


if __name__ == "__main__":
    main()
