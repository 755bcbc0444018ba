"""WebDAV at ``/dav/`` (RFC 4918 class 1 and 2) over the vault services, served by WsgiDAV: docs/webdav.md."""
