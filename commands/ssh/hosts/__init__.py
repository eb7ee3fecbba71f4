"""Which hosts a line is about: the inventory, ~/.ssh/config, ranges, target expressions, and
from a name to a HostSpec; plus the `hosts` command. Nothing here opens a connection."""
