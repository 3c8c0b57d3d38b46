"""``sangsaeng assessments list`` and ``validate``: JSON alone on stdout, exit codes."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from sangsaeng.assessments import catalog
from sangsaeng.cli import app

runner = CliRunner()


def test_list_shows_shipped_and_installed_instruments(cli_env, settings):
    installed = settings.data_dir / "instruments"
    installed.mkdir(parents=True, exist_ok=True)
    source = (
        "id: own-check\nversion: '1'\nkind: diagnosis\ntitle: 자체 점검\n"
        "scales:\n  yn: {type: choice, options: [{value: 0, label: 아니오},\n"
        "                                    {value: 1, label: 예}]}\n"
        "dimensions:\n  - id: d\n    title: 점검\n    weight: 1\n"
        "    items: [{id: q1, question: 점검합니까, scale: yn}]\n"
    )
    (installed / "own-check.yaml").write_text(source, encoding="utf-8")
    (installed / "broken.yaml").write_text("id: [\n", encoding="utf-8")
    try:
        result = runner.invoke(app, ["assessments", "list", "--json"])
    finally:
        (installed / "own-check.yaml").unlink()
        (installed / "broken.yaml").unlink()
        catalog.configure(installed)  # forget them again for the other tests of this process
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    origins = {row["id"]: row["origin"] for row in payload["instruments"]}
    assert origins["smart-factory-level"] == "shipped"
    assert origins["own-check"] == "installed"
    assert {row["id"] for row in payload["instruments"]} >= {
        "innovation-capability",
        "shared-growth-evaluation",
        "partner-certification",
        "application-score-sheet",
    }
    assert payload["skipped"][0]["file"].endswith("broken.yaml")


def test_validate_exit_codes_and_problems(tmp_path):
    good = "src/sangsaeng/assessments/instruments/smart-factory-level.yaml"
    ok = runner.invoke(app, ["assessments", "validate", good])
    assert ok.exit_code == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "id: x\nversion: 1\nkind: diagnosis\ntitle: 시험\n"
        "scales:\n  s: {type: choice, options: [{value: 1, label: 가}, {value: 2, label: 나}]}\n"
        "dimensions:\n  - id: d\n    title: 영역\n    weight: 0.5\n    items:\n"
        "      - {id: a, question: 질문, scale: nope}\n      - {id: a, question: 질문, scale: s}\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["assessments", "validate", "--json", good, str(bad)])
    assert result.exit_code == 2
    payload = json.loads(result.stdout)
    assert payload["valid"] is False
    assert [(p["line"], p["file"] == str(bad)) for p in payload["problems"]] == [
        (8, True),
        (12, True),
        (13, True),
    ]
    assert "가중치" in payload["problems"][0]["reason"]  # Korean by default
    human = runner.invoke(app, ["assessments", "validate", str(bad)])
    assert human.exit_code == 2 and f"{bad}:12:" in human.stdout


def test_the_example_in_the_authors_guide_is_valid(tmp_path):
    import re
    from pathlib import Path

    guide = Path(__file__).resolve().parents[2] / "docs" / "instruments.md"
    example = re.findall(r"```yaml\n(.*?)```", guide.read_text(encoding="utf-8"), re.S)[0]
    path = tmp_path / "example.yaml"
    path.write_text(example, encoding="utf-8")
    result = runner.invoke(app, ["assessments", "validate", str(path)])
    assert result.exit_code == 0, result.stdout
