"""The plugin host: the hook specifications every plugin implements and the manager that loads
built-ins (by name), extra modules and the ``hotline`` entry points. Imports plugins only by name
at run time, never in code."""
