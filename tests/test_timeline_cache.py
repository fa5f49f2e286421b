"""The viseme timeline kept on disk: read back whole, never stale, never in the way."""
from __future__ import annotations

import logging

import numpy as np
import pytest

import heygem_core.phonetic.timeline as timeline
from heygem_core.pipeline import prepare_speech
from heygem_core.phonetic import viseme_timeline


def same(a, b) -> bool:
    arrays = ("viseme", "openness", "spread", "pressed", "labiodental", "loudness", "held")
    return (all(np.array_equal(getattr(a, k), getattr(b, k)) and getattr(a, k).dtype == getattr(b, k).dtype
                for k in arrays)
            and a.phones == b.phones and (a.source, a.language, a.hop_s) == (b.source, b.language, b.hop_s))


def test_a_second_run_reads_the_timeline_the_first_one_built(speech_wav, tmp_path, monkeypatch):
    first = viseme_timeline(prepare_speech(speech_wav, cache_dir=tmp_path))
    assert len(list(tmp_path.glob("timeline-*.npz"))) == 1 and len(first.phones) > 10
    monkeypatch.setattr(timeline, "build_timeline", lambda *a: pytest.fail("built again"))
    again = viseme_timeline(prepare_speech(speech_wav, cache_dir=tmp_path))
    assert same(first, again)


def test_another_script_or_other_samples_are_another_timeline(speech_wav, tmp_path):
    speech = prepare_speech(speech_wav, cache_dir=tmp_path)
    viseme_timeline(speech)
    viseme_timeline(speech, "a script")
    louder = prepare_speech(speech_wav, cache_dir=tmp_path)
    louder.samples = louder.samples * np.float32(0.5)
    viseme_timeline(louder)
    assert len(list(tmp_path.glob("timeline-*.npz"))) == 3


def test_an_unreadable_timeline_is_built_again_and_replaced(speech_wav, tmp_path, caplog):
    first = viseme_timeline(prepare_speech(speech_wav, cache_dir=tmp_path))
    (path,) = tmp_path.glob("timeline-*.npz")
    path.write_bytes(b"not a timeline")
    with caplog.at_level(logging.WARNING, "heygem_core.phonetic"):
        again = viseme_timeline(prepare_speech(speech_wav, cache_dir=tmp_path))
    assert "unreadable viseme timeline" in caplog.text and same(first, again)
    assert path.read_bytes()[:2] == b"PK"        # written again


def test_a_cache_that_cannot_be_written_costs_time_not_the_run(speech_wav, tmp_path, caplog):
    blocked = tmp_path / "file"
    blocked.write_text("a file where the folder would be")
    with caplog.at_level(logging.WARNING, "heygem_core.phonetic"):
        tl = viseme_timeline(prepare_speech(speech_wav, cache_dir=blocked / "cache"))
    assert tl.n_hops > 0 and "not cached" in caplog.text


def test_a_script_that_did_not_fit_is_said_again_from_the_cache(speech_wav, tmp_path, caplog):
    text = "Completely different words about tomatoes, which are never spoken in this recording at all."
    with caplog.at_level(logging.WARNING, "heygem_core.phonetic"):
        first = viseme_timeline(prepare_speech(speech_wav, cache_dir=tmp_path), text)
    assert first.source == "audio" and "does not" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, "heygem_core.phonetic"):
        viseme_timeline(prepare_speech(speech_wav, cache_dir=tmp_path), text)
    assert "does not fit" in caplog.text
