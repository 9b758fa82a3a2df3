"""Uploaded media (invoice photos, dispatch evidence): safe intake and storage, for any feature.

`intake.ingest_upload` turns an untrusted upload into clean re-encoded images (or refuses it);
`storage.get_store()` keeps them under server-generated keys, outside `static/`.
"""
