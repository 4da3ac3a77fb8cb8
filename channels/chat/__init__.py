"""Chat channels: the city's Telegram bot (``telegram``) and the portal's live chat
(``webchat``). Each is a plugin that normalises what citizens write and calls intake."""
