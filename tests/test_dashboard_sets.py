"""Parameter sets in the options panel (the dashboard's and the tuning notebook's), the dashboard's "save these
settings as…", and "again with a new speech track": widgets driven directly, no browser, a temporary user
folder for the sets."""
from __future__ import annotations

import html
import json

import pytest

from dashboard_media import make_media
from heygem_core.options import LipSyncOptions
from heygem_core.tuning import params as sets


@pytest.fixture
def user_params(tmp_path, monkeypatch):
    monkeypatch.setenv("HEYGEM_PARAMS_DIR", str(tmp_path / "user-params"))
    return tmp_path / "user-params"


@pytest.fixture
def dashboard(tmp_path, user_params):
    from heygem_core.ui.app import Dashboard

    d = Dashboard(tmp_path / "ws", lang="en", poll=False)
    yield d
    d.stop()


def said(chooser) -> str:
    """The chooser's message as the person reads it."""
    return html.unescape(chooser.message.value)


def menu(panel) -> list[tuple[str, str]]:
    return list(panel.sets.pick.options)


def test_the_menu_lists_the_shipped_sets_and_the_users_not_batch_files(user_params):
    from heygem_core.ui.options_panel import OptionsPanel

    user_params.mkdir()
    sets.save_params(LipSyncOptions(teeth=0.2), "soft", user_params)
    (user_params / "weekly.yaml").write_text("audio: a.wav\nvideos: [b.mp4]\n")     # a batch file
    panel = OptionsPanel("en")
    assert menu(panel) == [("— own settings —", ""), ("ads (shipped)", "ads"), ("default (shipped)", "default"),
                           ("news (shipped)", "news"), ("soft", "soft")]
    assert "example_batch" not in str(menu(OptionsPanel("zh")))
    assert menu(OptionsPanel("zh"))[1] == ("ads（内置）", "ads")


def test_choosing_a_set_loads_its_values_until_one_is_moved(user_params):
    from heygem_core.ui.options_panel import OptionsPanel

    panel = OptionsPanel("en")
    panel.sets.pick.value = "news"
    assert panel.options() == LipSyncOptions.load("news") != LipSyncOptions()
    assert panel.sets.chosen == "news" and "Loaded the parameter set 'news'" in said(panel.sets)
    panel.set_lang("zh")                                      # menus relabelled: still the set
    assert panel.sets.chosen == "news" and panel.options() == LipSyncOptions.load("news")
    panel.inputs["teeth"].value = 0.05                        # moved: the settings are one's own now
    assert panel.sets.chosen is None and panel.sets.pick.value == ""
    assert panel.options().teeth == 0.05
    panel.sets.pick.value = "ads"
    assert panel.options() == LipSyncOptions.load("ads")
    panel.reset_button.click()
    assert panel.sets.chosen is None and panel.options() == LipSyncOptions()


def test_a_set_whose_file_went_away_says_so_in_one_line(user_params):
    from heygem_core.ui.options_panel import OptionsPanel

    sets.save_params(LipSyncOptions(crf=30), "gone", user_params)
    panel = OptionsPanel("en")
    (user_params / "gone.yaml").unlink()
    panel.sets.pick.value = "gone"
    assert "Could not load the parameter set 'gone'" in said(panel.sets)
    assert panel.sets.chosen is None and "gone" not in dict(menu(panel)).values()
    assert panel.options() == LipSyncOptions()


def test_save_as_refuses_shipped_and_bad_names_and_asks_before_replacing(dashboard, user_params):
    chooser = dashboard.options.sets
    dashboard.options.inputs["crf"].value = 28
    chooser.name.value = "news"
    chooser.save_button.click()
    assert "'news' is a shipped set and cannot be replaced" in said(chooser)
    assert not (user_params / "news.yaml").exists()
    chooser.name.value = "../x"
    chooser.save_button.click()
    assert "'../x' cannot be a name" in said(chooser) and not (user_params.parent / "x.yaml").exists()
    chooser.name.value = "weekly"
    chooser.save_button.click()
    assert sets.load_params("weekly").crf == 28 and chooser.chosen == "weekly"
    assert "Saved as the parameter set 'weekly'" in said(chooser)
    dashboard.options.inputs["crf"].value = 24
    chooser.save_button.click()                                # exists: asks first, nothing written
    assert chooser.save_button.description == "Replace 'weekly'?" and "click again" in said(chooser)
    assert sets.load_params("weekly").crf == 28
    chooser.save_button.click()                                # confirmed
    assert sets.load_params("weekly").crf == 24 and chooser.save_button.description == "Save"
    dashboard.set_lang("zh")
    assert chooser.save_button.description == "保存" and chooser.name.placeholder == "把当前参数另存为 …"


def test_a_set_saved_elsewhere_appears_in_the_menu_at_the_next_look(dashboard, user_params):
    from heygem_core.ui.app import UPLOADS_EVERY

    assert "promo" not in dict(menu(dashboard.options)).values()
    sets.save_params(LipSyncOptions(crf=26), "promo", user_params)      # by the tuning notebook, say
    for _ in range(UPLOADS_EVERY):
        dashboard.poll_once()
    assert ("promo", "promo") in menu(dashboard.options)


def test_the_chosen_set_comes_back_with_the_page(dashboard, user_params):
    from heygem_core.ui.app import Dashboard

    dashboard.options.sets.pick.value = "ads"
    state = json.loads(json.dumps(dashboard.page_state()))
    assert state["params"] == "ads"
    other = Dashboard(dashboard.ws.root, lang="en", poll=False)
    try:
        other.restore(state)
        assert other.options.sets.chosen == "ads" and other.options.options() == LipSyncOptions.load("ads")
        # the set, then a change made after choosing it: both come back, the menu says "own settings"
        dashboard.options.inputs["crf"].value = 33
        other.restore(json.loads(json.dumps(dashboard.page_state())))
    finally:
        other.stop()
    third = Dashboard(dashboard.ws.root, lang="en", poll=False)
    try:
        third.restore(json.loads(json.dumps(dashboard.page_state())))
        assert third.options.sets.chosen is None
        assert third.options.options() == LipSyncOptions.load("ads", crf=33)
        third.restore({"params": "no-such-set"})             # deleted since: the defaults, no error
    finally:
        third.stop()


def test_again_with_a_new_speech_keeps_presenters_and_options_and_clears_the_speech(dashboard, tmp_path):
    from heygem_core.jobs.records import ItemRecord, JobRecord

    d = dashboard
    media = make_media(tmp_path / "media")
    videos = [d.ws.store_upload(name, media[key]) for key, name in (("anna", "anna.mp4"), ("ben", "ben.mp4"))]
    used = LipSyncOptions.load("news", crf=30)
    items = [ItemRecord(id=f"j-{i}", job_id="j", index=i, video=str(v), video_name=v.name, status="done")
             for i, v in enumerate(videos)]
    job = JobRecord(id="j", status="done", created=0.0, started=None, finished=None, audio="talk.wav",
                    audio_name="talk.wav", options=used.to_dict(), items=items)
    d.batch_audio.choose(d.ws.store_upload("talk.wav", media["talk"]))
    d.script.area.value = "the words of last week's speech"
    d.options.inputs["crf"].value = 12                         # changed since that batch
    d.tabs.selected_index = 2
    d.again_with_new_speech(job)
    assert d.tabs.selected_index == 1 and d.batch_videos.paths == videos
    assert d.options.options() == used
    assert d.batch_audio.path is None and d.script.text is None
    assert "The same 2 face video(s) are chosen" in d.batch_message.value
