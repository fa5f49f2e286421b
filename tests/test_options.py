import pytest

from heygem_core.errors import OptionsError
from heygem_core.options import LipSyncOptions, option_fields


def test_defaults_validate_and_round_trip_yaml(tmp_path):
    opts = LipSyncOptions(mouth_gain=1.3, preset="fast", crf=18.0)
    assert opts.crf == 18 and isinstance(opts.crf, int)
    path = tmp_path / "p.yaml"
    opts.to_yaml(path)
    text = path.read_text()
    assert "# Scales how far the mouth opens" in text          # every option carries its help as a comment
    assert LipSyncOptions.from_yaml(path) == opts


@pytest.mark.parametrize("changes, name", [
    ({"engine": "magic"}, "engine"),
    ({"crf": 60}, "crf"),
    ({"crf": 20.5}, "crf"),
    ({"mouth_gain": "loud"}, "mouth_gain"),
    ({"color_match": 1}, "color_match"),
    ({"engine": "wav2lip"}, "checkpoint"),
])
def test_bad_values_name_the_option(changes, name):
    with pytest.raises(OptionsError) as err:
        LipSyncOptions(**changes)
    assert err.value.name == name and name in str(err.value)


def test_unknown_key_in_a_file_lists_valid_options(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("mouth_gian: 2\n")
    with pytest.raises(OptionsError, match="unknown option.*mouth_gain"):
        LipSyncOptions.from_yaml(path)


def test_every_field_has_help_and_a_group():
    for f in option_fields():
        assert f.metadata["help"] and f.metadata["group"]


def test_default_params_file_matches_defaults():
    from pathlib import Path
    path = Path(__file__).resolve().parents[1] / "params" / "default.yaml"
    assert LipSyncOptions.from_yaml(path) == LipSyncOptions()
