"""Registered command objects, one module per area.

Each module lists its commands in a module-level `COMMANDS` tuple (and may offer
`CONNECTORS`, `RESOLVERS`, `COMPLETERS`, `SETTINGS`); see shell/registry.py. Modules import
their drivers (paramiko, pymysql, redis...) inside functions, so startup stays fast.
"""
