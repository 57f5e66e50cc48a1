"""Parse every Terraform file (CI's check where no terraform binary can be installed).

``terraform fmt -check`` runs where the binary exists (the GitHub workflow); here each file
must at least parse as HCL2 and keep the house layout: two-space indents, no tabs, no
trailing white space, a final newline.
"""

from __future__ import annotations

import sys
from pathlib import Path

import hcl2


def main(root: str) -> int:
    problems = []
    files = sorted(Path(root).rglob("*.tf")) + sorted(Path(root).rglob("*.tfvars"))
    for path in files:
        text = path.read_text()
        try:
            hcl2.loads(text)
        except Exception as error:  # the parser raises several kinds
            problems.append(f"{path}: does not parse: {error}")
        for number, line in enumerate(text.splitlines(), 1):
            if "\t" in line:
                problems.append(f"{path}:{number}: tab")
            if line != line.rstrip():
                problems.append(f"{path}:{number}: trailing white space")
            indent = len(line) - len(line.lstrip(" "))
            if indent % 2:
                problems.append(f"{path}:{number}: odd indentation")
        if text and not text.endswith("\n"):
            problems.append(f"{path}: no final newline")
    for problem in problems:
        print(problem)
    print(f"hcl check: {len(files)} files, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "deploy/terraform"))
