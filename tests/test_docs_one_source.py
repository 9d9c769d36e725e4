"""What is documented twice comes from one source: ``--help``, the README's tables and /openapi.json
list the routes of the feed catalogue and the variables of ``settings.env.Config``, and these tests
fail when one of them drifts (a route, a variable or a default left out, or one too many)."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import fields

from bridge.openapi import TAGS, openapi_document
from emulator.corpus import HASHTAGS, Corpus
from harness import ROOT
from settings.env import Config, setting_name
from settings.variables import MEANINGS, markdown_table, plain, readme_with_table, variables

README = (ROOT / "README.md").read_text(encoding="utf-8")
ENV_NAMES = [setting_name(each.name) for each in fields(Config) if each.metadata["env"]]


def section(title: str) -> str:
    return README.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_help_lists_every_route_and_every_variable_with_its_default() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bridge", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    listed = re.findall(r"^  (/\S*) ", done.stdout, re.MULTILINE)
    assert listed == list(openapi_document()["paths"])
    for each in variables():
        assert f"  {each.name} ({plain(each.default)}): " in done.stdout
    assert re.findall(r"^  ([A-Z][A-Z_]+) \(", done.stdout, re.MULTILINE) == ENV_NAMES


def test_every_environment_variable_has_a_meaning_and_no_other() -> None:
    assert set(MEANINGS) == set(ENV_NAMES)
    assert [each.name for each in variables()] == ENV_NAMES


def test_the_readme_variable_table_is_the_generated_one() -> None:
    assert readme_with_table(README) == README, (
        "the README's Configuration table differs from settings.env and settings/variables.py: "
        "run .venv/bin/python -m settings.variables --write README.md"
    )
    assert markdown_table() in section("Configuration")
    defaults = dict(re.findall(r"^\| `([A-Z_]+)` \| (.+?) \|", section("Configuration"), re.MULTILINE))
    assert defaults == {each.name: each.default for each in variables()}


def test_the_readme_names_every_scrapy_only_setting() -> None:
    configuration = section("Configuration")
    for each in fields(Config):
        if not each.metadata["env"]:
            assert f"`{setting_name(each.name)}`" in configuration


def test_the_readme_route_table_lists_every_openapi_path() -> None:
    rows = re.findall(r"^\| `GET (/[^`?]*)[^`]*` \|", section("The HTTP API"), re.MULTILINE)
    assert sorted(rows) == sorted(openapi_document()["paths"])
    assert len(rows) == len(set(rows))


def test_every_get_has_a_truthful_head_operation() -> None:
    for path, item in openapi_document()["paths"].items():
        assert set(item) == {"get", "head"}, path
        get, head = item["get"], item["head"]
        assert head.get("parameters") == get.get("parameters"), path
        assert head["responses"].keys() == get["responses"].keys(), path
        for status, response in head["responses"].items():
            assert "content" not in response, (path, status)  # a HEAD answer has no body
            assert response.get("headers") == get["responses"][status].get("headers"), (path, status)
        assert head["operationId"] == "head" + get["operationId"].removeprefix("get")
        assert head["tags"] == get["tags"]


def test_every_operation_has_a_unique_id_and_a_declared_tag() -> None:
    document = openapi_document()
    operations = [op for item in document["paths"].values() for op in item.values()]
    ids = [op["operationId"] for op in operations]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"(get|head)[A-Z][A-Za-z]+", each) for each in ids)
    assert [tag["name"] for tag in document["tags"]] == list(TAGS)
    assert {tag for op in operations for tag in op["tags"]} == set(TAGS)
    assert all(len(op["tags"]) == 1 for op in operations)


def test_the_readme_says_how_to_stop_the_demo_and_what_its_corpus_holds() -> None:
    demo = README.split("make demo", 1)[1].split("\n## ", 1)[0]
    assert "Ctrl-C" in demo
    listed = re.search(r"- hashtags \(for `/category`\): (.*?);\n", demo, re.DOTALL)
    assert listed is not None
    assert re.findall(r"`([^`]+)`", listed.group(1)) == [title for title, _size in HASHTAGS]
    corpus = Corpus(1)  # the demo's emulator runs with its default seed, 1
    for name in ("creator_0", "user.001", "creator_498", "user.499", "private.500"):
        assert f"`{name}`" in demo
        assert corpus.creator(unique_id=name) is not None
    assert f"`{corpus.item_id(9)}`" in demo


def test_the_readme_says_how_many_tests_there_are() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    collected = re.search(r"^(\d+) tests collected", done.stdout, re.MULTILINE)
    assert collected is not None, done.stdout[-2000:]
    stated = re.search(r"`pytest` \((\d+) tests in all", README)
    assert stated is not None
    assert int(stated.group(1)) == int(collected.group(1))
