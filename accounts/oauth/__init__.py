"""OAuth with Google, GitHub, Facebook and Apple: sign-in, linking and unlinking."""
