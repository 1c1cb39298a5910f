"""Label signing: the signer, the verifier anyone can run with the published keys (verifier,
offline), the legacy key folder (keydir), and the keys in the database (models, kek, services,
store; the app's store in keys) with their commands (cli).

signer, verifier, offline and keydir import neither Flask nor the database (the
import-direction contracts in pyproject.toml hold them to it)."""
