"""The `wav2lip` engine: the published generator (net), its mel features (mel), the weights store (weights)."""
