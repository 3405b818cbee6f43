"""newsbot front-ends: settings, the command line, the console and the Telegram bot."""
