"""A tus client process for the tests (tuspy): uploads a file, resuming from the URL it stored for it if there is
one. ``python tests/vault/tus_client.py BASE TOKEN FILE STORE CHUNK [folder-id]``; prints the upload's URL."""

import sys

from tusclient import client
from tusclient.storage.filestorage import FileStorage


def main(base, token, path, store, chunk, folder=""):
    tus = client.TusClient(f"{base}/api/v1/uploads/", headers={"Authorization": f"Bearer {token}"})
    metadata = {"name": path.rsplit("/", 1)[-1]}
    if folder:
        metadata["folder"] = folder
    uploader = tus.uploader(
        path, chunk_size=int(chunk), metadata=metadata, store_url=True, url_storage=FileStorage(store)
    )
    uploader.upload()
    print(uploader.url, flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
