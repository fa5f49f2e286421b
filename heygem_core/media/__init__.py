"""Media in and out: file checks, decoding speech and template videos (PyAV), the output timeline, encoding."""
