"""The Snakefile and the rule files are formatted as snakefmt formats them (the house style of
Snakemake workflows; snakefmt and black are pinned in requirements.txt, so the check is stable).
Fix a failure with `python -m snakefmt Snakefile workflow/rules/*.smk`."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_workflow_files_are_snakefmt_formatted():
    files = ["Snakefile", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "workflow" / "rules").glob("*.smk"))]
    run = subprocess.run([sys.executable, "-m", "snakefmt", "--check", *files], cwd=ROOT,
                         capture_output=True, text=True)
    assert run.returncode == 0, f"not snakefmt-formatted (run: python -m snakefmt {' '.join(files)}):\n{run.stderr}"
