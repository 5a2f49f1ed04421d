"""Keys and sealing, composed only from vetted primitives in `cryptography`."""
