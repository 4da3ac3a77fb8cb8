"""The Telegram channel (python-telegram-bot): not built yet."""
