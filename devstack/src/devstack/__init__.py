"""The service stack without Docker: install and run real servers on loopback.

`beatstream stack up|status|down` installs each server from the registries the
machine reaches (first run; cached afterwards under the home directory), starts it
with its data under one folder, and stops exactly the processes it started.
"""
