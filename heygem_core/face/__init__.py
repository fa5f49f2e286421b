"""The face: FaceMesh on a crop that follows it (detector), a whole video's smoothed track and its cache (track),
landmark index sets and measures (landmarks), the One-Euro filter (smoothing)."""
