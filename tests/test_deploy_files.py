"""deploy/: Docker does not run here, so the compose file and the Dockerfile are checked by reading them."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
DEPLOY = REPO / "deploy"


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments dropped."""
    logical, current = [], ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        current += line.rstrip("\\").strip() + " "
        if not line.endswith("\\"):
            logical.append(current.strip())
            current = ""
    return [(text.split(" ", 1)[0].upper(), text.split(" ", 1)[1] if " " in text else "") for text in logical]


def test_dockerfile_builds_from_files_that_exist_in_the_right_order() -> None:
    steps = instructions(DEPLOY / "Dockerfile")
    assert steps[0] == ("FROM", "python:3.11-slim")
    runs = [args for name, args in steps if name == "RUN"]
    torch = next(i for i, r in enumerate(runs) if "torch==2.13.0" in r)
    assert "download.pytorch.org/whl/cpu" in runs[torch]
    install = next(i for i, r in enumerate(runs) if re.search(r"pip install -c constraints\.txt \.$", r))
    models = next(i for i, r in enumerate(runs) if "convention-assistant models install" in r)
    assert torch < install < models
    for name, args in steps:
        if name == "COPY":
            *sources, _ = shlex.split(args)
            for source in sources:
                assert (REPO / source).exists(), f"COPY {source}: no such file in the build context"
    copied = " ".join(args for name, args in steps if name == "COPY")
    for module in ("app.py", "cli.py", "web/", "assistant/", "ingest/", "prompts/",
                   "widget/", "constraints.txt", "pyproject.toml"):
        assert module in copied, f"the image lacks {module}"
    env = " ".join(args for name, args in steps if name == "ENV")
    assert "HF_HUB_OFFLINE=1" in env and "CA_HOST=0.0.0.0" in env
    cmd = next(args for name, args in steps if name == "CMD")
    assert '"serve"' in cmd and '"0.0.0.0"' in cmd
    expose = next(args for name, args in steps if name == "EXPOSE")
    assert expose == "7860" and "CA_PORT=7860" in env


def test_compose_runs_app_replicas_on_one_chroma_server_with_optional_llm() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert {"app", "chroma", "ingest", "ollama"} <= set(services)

    app = services["app"]
    build = app["build"]
    assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == (DEPLOY / "Dockerfile").resolve()
    assert str(app["deploy"]["replicas"]).endswith("2}") or int(app["deploy"]["replicas"]) >= 2
    assert app["environment"]["CA_CHROMA_URL"] == "http://chroma:8000"
    assert "chroma" in app["depends_on"]
    assert any(str(p).endswith(":7860") for p in app["ports"])

    chroma = services["chroma"]
    volume = chroma["volumes"][0].split(":")
    assert volume[0] in compose["volumes"] and volume[1] == "/data"
    assert "ports" not in chroma  # the index is reached by the apps only

    assert services["ollama"]["profiles"] == ["llm"]
    assert services["ingest"]["profiles"] == ["ingest"]
    assert services["ingest"]["environment"]["CA_CHROMA_URL"] == app["environment"]["CA_CHROMA_URL"]
    assert any(v.endswith(":/data") for v in services["ingest"]["volumes"])  # one shared manifest


def test_guide_covers_one_machine_several_machines_and_limits() -> None:
    guide = (DEPLOY / "GUIDE.md").read_text(encoding="utf-8")
    for heading in ("## One machine", "## Several machines", "## Limits"):
        assert heading in guide
    assert "ChunkStore" in guide and "distributed" in guide
