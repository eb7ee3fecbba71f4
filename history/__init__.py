"""Persistent history, recording, the script format and replay."""
