"""The one place where adapters are wired to services (grows with storage and the web app)."""
