"""A client generated from /openapi.json, as a new user would make one: ``openapi-python-client
generate`` (pinned in requirements-dev.txt) on the document, without a config file. It must generate
without a warning (no answer skipped, no route under a ``default`` tag) and its typed functions must
work against the running service: Video, Creator, Comment and Sound objects, a Problem on a 404, the
play route's bytes, and a HEAD beside each GET with the same status and no body.

The arguments come from the emulator's seed-1 corpus (``emulator/corpus.py``)."""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pytest

from bridge.openapi import TAGS, openapi_document

if TYPE_CHECKING:
    from harness.service import ServiceProcess

PACKAGE = "tiktok_fetch_service_client"  # from the document's title
#: where the venv's tools are: the generator's post-generation hooks run ruff from PATH
TOOLS = Path(sys.executable).parent
VIDEO = "7300001000000942561"
SOUND = "7050000000000015838"  # a shared track ("Cupid 2.0"): dozens of videos
#: the arguments of each operation; the replies' comment is one the comments answer names
ARGUMENTS: dict[str, dict[str, Any]] = {
    "getTrending": {"count": 5},
    "getCategory": {"hashtag": "food", "count": 5},
    "getSearch": {"q": "pasta", "count": 5},
    "getSearchUsers": {"q": "pasta", "count": 3},
    "getUser": {"unique_id": "creator_3"},
    "getUserVideos": {"unique_id": "creator_3", "count": 5},
    "getVideoComments": {"video": VIDEO, "count": 20},
    "getCommentReplies": {"video": VIDEO, "count": 5},
    "getRelatedVideos": {"video": VIDEO, "count": 5},
    "getSound": {"id": SOUND},
    "getSoundVideos": {"id": SOUND, "count": 5},
    "getVideo": {"id": VIDEO},
    "getHealth": {},
    "getOpenapi": {},
}
#: what each answers: a list of that model, or one
ANSWERS: dict[str, str | list[str]] = {
    "getTrending": ["Video"],
    "getCategory": ["Video"],
    "getSearch": ["Video"],
    "getSearchUsers": ["Creator"],
    "getUser": "Creator",
    "getUserVideos": ["Video"],
    "getVideoComments": ["Comment"],
    "getCommentReplies": ["Comment"],
    "getRelatedVideos": ["Video"],
    "getSound": "Sound",
    "getSoundVideos": ["Video"],
    "getVideo": "Video",
    "getHealth": "Health",
    "getOpenapi": "GetOpenapiResponse200",
}


def snake(operation_id: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation_id).lower()


def json_operations() -> dict[str, str]:
    """operationId -> tag of every GET that answers JSON."""
    return {
        item["get"]["operationId"]: item["get"]["tags"][0]
        for item in openapi_document()["paths"].values()
        if "application/json" in item["get"]["responses"]["200"].get("content", {})
    }


@pytest.fixture(scope="module")
def generation(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The generated project's folder, and what the generator printed."""
    root = tmp_path_factory.mktemp("generated")
    (root / "openapi.json").write_text(json.dumps(openapi_document()), encoding="utf-8")
    environment = {**os.environ, "PATH": f"{TOOLS}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            "openapi.json",
            "--output-path",
            "client",
        ],
        cwd=root,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    return root / "client", output


@pytest.fixture(scope="module")
def client_package(generation: tuple[Path, str]) -> ModuleType:
    folder, _output = generation
    sys.path.insert(0, str(folder))
    try:
        return importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(folder))


def api(package: ModuleType, operation_id: str, tag: str) -> Any:
    return importlib.import_module(f"{package.__name__}.api.{tag}.{snake(operation_id)}")


def test_the_client_generates_without_warnings(generation: tuple[Path, str]) -> None:
    folder, output = generation
    assert "warning" not in output.lower(), output
    assert "error" not in output.lower(), output
    modules = {
        path.relative_to(folder / PACKAGE / "api").as_posix() for path in folder.glob(f"{PACKAGE}/api/*/*.py")
    }
    expected = {
        f"{op['tags'][0]}/{snake(op['operationId'])}.py"
        for item in openapi_document()["paths"].values()
        for op in item.values()
    }
    assert modules - {f"{tag}/__init__.py" for tag in TAGS} == expected  # nothing under "default"
    play = (folder / PACKAGE / "api" / "videos" / "get_video_play.py").read_text(encoding="utf-8")
    assert "File(payload=BytesIO(response.content))" in play  # the 200 and 206 bytes, not skipped


def test_the_generated_client_calls_every_json_route(
    client_package: ModuleType, service: ServiceProcess
) -> None:
    assert set(ARGUMENTS) == set(json_operations())
    client = client_package.Client(base_url=service.base_url, raise_on_unexpected_status=True, timeout=120.0)
    models = importlib.import_module(f"{PACKAGE}.models")
    with client:
        answers: dict[str, Any] = {}
        for operation_id, tag in json_operations().items():
            arguments = dict(ARGUMENTS[operation_id])
            if operation_id == "getCommentReplies":
                arguments["comment"] = next(c.id for c in answers["getVideoComments"] if c.reply_count)
            answer = api(client_package, operation_id, tag).sync(client=client, **arguments)
            expected = ANSWERS[operation_id]
            if isinstance(expected, list):
                assert isinstance(answer, list), (operation_id, answer)
                assert answer, operation_id
                assert all(isinstance(each, getattr(models, expected[0])) for each in answer), operation_id
            else:
                assert isinstance(answer, getattr(models, expected)), (operation_id, answer)
            answers[operation_id] = answer
            head = api(client_package, "head" + operation_id.removeprefix("get"), tag)
            headers_only = head.sync_detailed(client=client, **arguments)
            assert headers_only.status_code == 200, operation_id
            assert headers_only.content == b"", operation_id

    assert answers["getUser"].unique_id == "creator_3"
    assert answers["getSound"].id == SOUND
    assert answers["getVideo"].id == VIDEO
    assert answers["getVideo"].music.id is not None
    assert answers["getTrending"][0].video.url.startswith(service.base_url)
    assert all(reply.id for reply in answers["getCommentReplies"])
    assert answers["getHealth"].status.value in ("ok", "degraded")
    assert "/trending" in answers["getOpenapi"].additional_properties["paths"]


def test_the_generated_client_reads_problems_and_bytes(
    client_package: ModuleType, service: ServiceProcess
) -> None:
    models = importlib.import_module(f"{PACKAGE}.models")
    client = client_package.Client(base_url=service.base_url, timeout=120.0)
    with client:
        missing = api(client_package, "getCategory", "feeds").sync(
            client=client, hashtag="nosuchhashtag", count=5
        )
        assert isinstance(missing, models.Problem)
        assert (missing.status, missing.code) == (404, models.ProblemCode.NOT_FOUND)
        unknown = api(client_package, "getUser", "creators").sync(client=client, unique_id="nobody.here")
        assert isinstance(unknown, models.Problem)
        assert unknown.code == models.ProblemCode.NOT_FOUND
        bad = api(client_package, "getTrending", "feeds").sync(client=client, count=1000)
        assert isinstance(bad, models.Problem)
        assert (bad.code, bad.parameter) == (models.ProblemCode.INVALID_PARAMETER, "count")

        play = api(client_package, "getVideoPlay", "videos")
        whole = play.sync(client=client, id=VIDEO)
        first = play.sync_detailed(client=client, id=VIDEO, range_="bytes=0-99")
        assert first.status_code == 206
        assert first.parsed.payload.read() == whole.payload.read()[:100]
