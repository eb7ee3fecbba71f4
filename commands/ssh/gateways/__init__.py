"""Fleets past one machine: `run` through ClusterShell gateways (its tree mode).

opsh does not grow a distributed engine of its own: hosts behind bastions are handed to
ClusterShell, whose gateways (`python -m ClusterShell.Gateway`, reached over ssh) fan out to
their leaves. Everything else stays opsh's: the targets, the streamed or grouped output, the
summary, @failed and Ctrl-C go through the same fan-out engine and rendering as a direct run.

topology.py decides which targets go through which gateways (`--via`, or `[topology]` in the
config) and knows nothing of ClusterShell; leaf.py is the command line a leaf runs; head.py is
how this machine reaches a gateway (OpenSSH, from opsh's own host settings); engine.py drives
ClusterShell and is the only module that imports it, when a run goes through gateways.
"""
