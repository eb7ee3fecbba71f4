"""Running commands: one remote or local command read as lines, many hosts at once (the
fan-out), and `run`, which streams or gathers their output."""
