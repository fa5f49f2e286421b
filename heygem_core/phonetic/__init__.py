"""The phonetic mouth: which shape the lips make when, from the speech (and its script, when known).

    tl = viseme_timeline(speech)                 # once per speech, shared by every video of a batch
    track = mouth_track(tl, fps, n_frames, max_opening=0.26)

Stages, one module each: ``recognise`` (pocketsphinx phone loop and forced alignment), ``script`` and
``pinyin`` (text → words and phones), ``cues`` (silence, stop closures, formants), ``visemes``
(phone → mouth shape), ``timeline`` (all of it per 10 ms), ``shapes`` (per video frame, with
coarticulation), ``report`` (how well a video's lips make those shapes).
"""
from .shapes import MouthTrack, mouth_track
from .timeline import VisemeTimeline, viseme_timeline
from .visemes import Viseme

__all__ = ["MouthTrack", "Viseme", "VisemeTimeline", "mouth_track", "viseme_timeline"]
