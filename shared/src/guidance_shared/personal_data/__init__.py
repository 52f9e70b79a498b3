"""Personal data of natural persons in events: sealed per field under a per-subject key, erasable by
deleting that key (crypto-shredding), linkable through keyed pseudonyms.

- ``field``: the wire format of an encrypted field, its JSON Schema, AES-256-GCM sealing/opening
  (docs/personal-data.md);
- ``pseudonym``: keyed pseudonyms (HMAC-SHA256) and the subject id derived from an ID number;
- ``keys``: data keys wrapped by KEKs, the ``KeyEncryptionKeys`` and ``SubjectKeys`` ports;
- ``local_keks``: KEKs from the settings or a key file; ``memory``: the in-memory key store;
- ``cipher``: ``FieldCipher``, sealing and opening against a key store; ``cache``: opened keys kept in
  memory for a bounded time, dropped at erasure;
- ``errors``: what can go wrong, and ``ERASED_TEXT`` shown for erased data.

The design (who may decrypt, how erasure reaches every copy, rotation, backups) is docs/decisions/0007.
Nothing here performs I/O at import, and nothing here logs.
"""
