"""Sessions and tokens: sign-in with a password, token pairs and their rotation, ending
sessions, sign-out, the keys that verify access tokens."""
