"""opsh: an interactive shell for operations work.

This folder is the package `opsh` as it installs. The code stays in the top-level folders the
design names (shell/, commands/, history/); the links here to them make the checkout itself
the installed shape, so Python, mypy, pyright, pytest and editors import `opsh.shell` from the
tree as it is, with no mapping, link tree or shim (README: Layout).
"""
