"""One module per queue server: base.py (what every backend offers, and the shape of a task),
tarantool.py (the `queue` module's API), redisq.py (a reliable queue on Redis lists) and
kestrel.py (Kestrel's memcache protocol). Each has a `connect` for `connect SCHEME://...`."""
