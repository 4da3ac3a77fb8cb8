"""The shell: the composition root (``Kernel``, ``AppContext``), the Litestar app factory, pages
(Jinja), error answers, the access log, health, live screens, languages, the server and the
edge counters. May import every domain and the plugin host; no plugin, channel, portal,
console or speech module."""
