"""Getting an authenticated connection: keys, known_hosts, questions for the person at the
keyboard, the login itself, and the pool of kept connections."""
