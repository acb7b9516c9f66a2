"""The exit codes of every command (`edgewise refactor`, `replay`, `cost`, …)."""

EXIT_OK = 0  # done: every target applied or proposed; a replay identical
EXIT_FAILED = 1  # done, but something failed, was refused or differs
EXIT_USAGE = 2  # bad command line or setup: nothing changed
EXIT_INTERRUPTED = 130  # Ctrl-C, SIGTERM, SIGHUP: finished work kept, the rest untouched
