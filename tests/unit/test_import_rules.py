"""The boundaries between the parts (pyproject.toml [tool.importlinter]), checked by
import-linter: the gateway imports only shared, a service never imports another service or
the tools, shared imports none of them, and domains and contracts do no I/O.

Each rule is also shown to bite: a copy of the code with one forbidden import planted in it
breaks exactly that rule.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PARTS = ("gateway", "services", "shared", "tools")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
RULES = {
    "gateway": "The gateway depends on shared (contracts and plumbing) only, never on a service",
    "services-independent": "A service never imports another service",
    "services": "A service never imports the tools or the gateway",
    "shared": "shared (contracts and plumbing) imports no service, no gateway, no tools",
    "pure": "Domains and contracts do no I/O: no database, broker, HTTP or plumbing that does",
}


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", str(root / "pyproject.toml")],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def verdicts(output: str) -> dict[str, str]:
    """Each rule -> KEPT or BROKEN, from lint-imports' summary (its first line naming it)."""
    found: dict[str, str] = {}
    for line in output.splitlines():
        for rule, name in RULES.items():
            if line.startswith(name):
                found.setdefault(rule, "BROKEN" if line.rstrip().endswith("BROKEN") else "KEPT")
    return found


def test_the_code_keeps_every_rule():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert verdicts(result.stdout) == dict.fromkeys(RULES, "KEPT")


@pytest.fixture(scope="module")
def copy_of_the_code(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("code")
    skip = shutil.ignore_patterns("__pycache__", "templates", "static", "migrations", "*.html")
    for part in PARTS:
        shutil.copytree(ROOT / part, root / part, ignore=skip)
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


PLANTED = {
    # rule broken: (file, the import planted in it)
    "gateway": ("gateway/pages/case_forms.py", "from services.cases.domain import model"),
    "services-independent": ("services/cases/scope.py", "from services.accounts import views"),
    "services": ("services/accounts/admin.py", "from tools.demo import generate_password"),
    "shared": ("shared/envelope.py", "from gateway import keys"),
    "pure": ("services/cases/domain/model.py", "import asyncpg"),
}


@pytest.mark.parametrize("rule", PLANTED)
def test_a_planted_import_breaks_its_rule(copy_of_the_code, rule):
    path, planted = PLANTED[rule]
    target = copy_of_the_code / path
    original = target.read_text()
    target.write_text(f"{original}\n{planted}  # planted by the test\n")
    try:
        result = lint_imports(copy_of_the_code)
    finally:
        target.write_text(original)
    assert result.returncode != 0
    assert verdicts(result.stdout)[rule] == "BROKEN", result.stdout
    assert planted.split()[1] in result.stdout  # the offending module is named


def test_a_contract_that_imports_plumbing_is_not_pure(copy_of_the_code):
    """Indirect imports count: a contract importing shared.rpc pulls in asyncpg."""
    target = copy_of_the_code / "shared/contracts/cases/rpc.py"
    original = target.read_text()
    target.write_text(f"{original}\nfrom shared.rpc import Actor  # planted by the test\n")
    try:
        result = lint_imports(copy_of_the_code)
    finally:
        target.write_text(original)
    assert verdicts(result.stdout)["pure"] == "BROKEN", result.stdout
    assert "shared.contracts.cases.rpc -> shared.rpc" in result.stdout
