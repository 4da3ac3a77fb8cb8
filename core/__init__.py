"""The case kernel: every channel writes here through one intake; every change is a do_* function."""
