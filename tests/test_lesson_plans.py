"""Lessons as files and in the class store (core.classroom.lesson_mode.plans) and ``python -m core
lesson`` (in-process): the default lesson's every step opens its page with every setting taken, a
file's bad steps are named and skipped, JSON and TOML give the same lesson back."""

from __future__ import annotations

import ast
import json
import urllib.parse

import pytest

from core.__main__ import main
from core.classroom.lesson_mode.plans import DEFAULT, PAGES, LessonError, LessonPlans, from_dict, read_file, write_file
from core.classroom.store import ClassStore
from tests.harness import ROOT, run_page


def test_the_pages_are_the_navigations():
    """PAGES is dashboard/app.py's navigation, read from its source (Home is "")."""
    tree = ast.parse((ROOT / "dashboard" / "app.py").read_text())
    paths = [
        kw.value.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "Page"
        for kw in node.keywords
        if kw.arg == "url_path"
    ]
    assert ["" if p == "home" else p for p in paths] == list(PAGES)


@pytest.mark.parametrize("step", DEFAULT.steps, ids=[s.link for s in DEFAULT.steps])
def test_every_step_of_the_default_lesson_opens_its_page_with_every_setting_taken(step):
    at = run_page(step.page or "home", dict(step.settings))
    assert not at.exception, step.link
    refused = [w.value for w in at.warning if "is not a value this page accepts" in w.value]
    assert not refused, (step.link, refused)


def test_a_files_bad_steps_are_named_and_skipped_and_the_rest_kept():
    lesson, skipped = from_dict(
        {
            "name": "mine",
            "title": "**Mine** [x](http://y)",
            "steps": [
                {"title": "ok", "link": "/draw?draw_model=lenet5", "lines": "one line"},
                {"title": "nowhere", "link": "/journey"},
                {"title": "elsewhere", "link": "https://example.com/draw"},
                {"title": "token", "link": "/class?teacher=SECRET"},
                "not a step",
                {"link": "dataset?digit=3", "lines": ["a", "b", "c"]},
            ],
        }
    )
    assert [s.link for s in lesson.steps] == ["/draw?draw_model=lenet5", "/dataset?digit=3"]
    assert lesson.steps[0].lines == ("one line",) and lesson.steps[1].lines == ("a", "b")  # two lines at most
    assert lesson.steps[1].title == "Step 6" and lesson.title == "**Mine** [x](http://y)"  # plain text, as typed
    assert [reason.split(":")[0] for reason in skipped] == ["step 2", "step 3", "step 4", "step 5"]
    assert "/journey" in skipped[0] and "teacher's token" in skipped[2]
    with pytest.raises(LessonError, match="no step this dashboard can show"):
        from_dict({"name": "empty", "steps": [{"link": "/nowhere"}]})
    with pytest.raises(LessonError, match="lesson's name"):
        from_dict({"name": "../etc", "steps": []})


@pytest.mark.parametrize("suffix", [".json", ".toml"])
def test_a_lesson_goes_to_a_file_and_back_unchanged(tmp_path, suffix):
    lesson, _ = from_dict({**DEFAULT.to_dict(), "name": "copy", "title": 'quotes " and \\ and 中文'})
    path = write_file(lesson, tmp_path / f"copy{suffix}")
    assert read_file(path) == (lesson, [])


def test_lessons_are_saved_in_the_class_store_beside_the_default(tmp_path):
    plans = LessonPlans(ClassStore(tmp_path / "class.sqlite"))
    lesson, _ = from_dict({"name": "short", "title": "Short", "steps": [{"title": "a", "link": "/draw"}]})
    plans.save(lesson)
    plans.save(lesson)  # again: replaced, not doubled
    assert [le.name for le in plans.lessons()] == ["default", "short"]
    assert plans.lesson("short") == lesson
    with pytest.raises(LessonError, match="built-in"):
        plans.save(DEFAULT)
    with pytest.raises(LessonError, match="no lesson"):
        plans.lesson("nope")


def test_the_command_lists_imports_and_exports(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CNN_EXPLAINER_CLASS_DB", str(tmp_path / "class.sqlite"))
    source = tmp_path / "mine.toml"
    source.write_text('name = "mine"\ntitle = "Mine"\n[[steps]]\ntitle = "a"\nlink = "/draw"\n[[steps]]\nlink = "/x"\n')
    assert main(["lesson", "import", str(source), "--json"]) == 0
    imported = json.loads(capsys.readouterr().out)
    assert [s["link"] for s in imported["steps"]] == ["/draw"] and imported["skipped"][0].startswith("step 2: /x")
    assert main(["lesson", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["lessons"]
    assert [le["name"] for le in listed] == ["default", "mine"] and len(listed[0]["steps"]) == len(DEFAULT.steps)
    assert set(listed[0]["steps"][0]) >= {"title", "link"}
    assert main(["lesson", "export", "default", str(tmp_path / "d.json")]) == 0
    assert json.loads((tmp_path / "d.json").read_text())["steps"][3]["link"] == (
        "/architecture?" + urllib.parse.urlencode({"arch_model": "lenet5_1998", "c3_map": "15"})
    )
    assert main(["lesson", "show", "nope"]) == 2
    assert "no lesson 'nope'" in capsys.readouterr().err
