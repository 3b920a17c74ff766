"""Real local HTTP/SMTP servers the tests talk to instead of the internet."""
